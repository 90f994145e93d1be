//! The language server: `routerc lsp` speaks the Language Server Protocol over stdio.
//!
//! This module is the transport only. It keeps the open documents (incremental sync), turns
//! LSP positions into byte offsets and back, and translates the answers of the analysis
//! engine ([`crate::ide`]) and the compiler's diagnostics into protocol messages. It contains
//! no knowledge of the language; everything it says comes from `ide`, `check` and `fmt`.
//!
//! The loop is single-threaded and synchronous (rust-analyzer's `lsp-server`): messages are
//! handled in order, so a request always sees every edit sent before it. Diagnostics are
//! published when the queue of incoming messages is empty, so a burst of keystrokes is
//! checked once, after its last edit.

mod documents;
mod position;

use std::collections::HashMap;
use std::error::Error;
use std::rc::Rc;
use std::str::FromStr;

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidChangeWatchedFiles, DidCloseTextDocument, DidOpenTextDocument,
    Notification as _, PublishDiagnostics,
};
use lsp_types::request::{
    CodeActionRequest, Completion, DocumentHighlightRequest, DocumentSymbolRequest,
    FoldingRangeRequest, Formatting, GotoDefinition, HoverRequest, PrepareRenameRequest,
    References, Rename, Request as _,
};
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionProviderCapability, CompletionItem,
    CompletionItemKind, CompletionOptions, CompletionTextEdit, DiagnosticRelatedInformation,
    DiagnosticSeverity, DiagnosticTag, Documentation, FoldingRange, FoldingRangeKind,
    FoldingRangeProviderCapability, GotoDefinitionResponse, HoverContents, HoverProviderCapability,
    Location, MarkupContent, MarkupKind, NumberOrString, OneOf, Position, PositionEncodingKind,
    PrepareRenameResponse, PublishDiagnosticsParams, Range, RenameOptions, ServerCapabilities,
    ServerInfo, TextDocumentSyncCapability, TextDocumentSyncKind, TextEdit, Uri, WorkspaceEdit,
};
use serde::de::DeserializeOwned;
use serde_json::Value as Json;

use crate::diagnostic::{Diagnostic, Severity};
use crate::ide::{self, Analysis, CompletionKind, SymbolKind};
use crate::syntax::{FileId, Span};
use documents::Documents;
use position::LineIndex;

pub use documents::{path_to_uri, uri_to_path};

/// Runs the server on stdin and stdout until the client says `exit`.
pub fn run_stdio() -> Result<(), Box<dyn Error + Send + Sync>> {
    let (connection, io_threads) = Connection::stdio();
    serve(&connection)?;
    // The writer thread ends when the last sender is dropped.
    drop(connection);
    io_threads.join()?;
    Ok(())
}

/// What the server can do, as announced in the `initialize` response.
pub fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(PositionEncodingKind::UTF16),
        text_document_sync: Some(TextDocumentSyncCapability::Kind(
            TextDocumentSyncKind::INCREMENTAL,
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![".".into(), "[".into()]),
            ..CompletionOptions::default()
        }),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        document_highlight_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: Default::default(),
        })),
        document_symbol_provider: Some(OneOf::Left(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
        folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
        ..ServerCapabilities::default()
    }
}

/// Runs the protocol on a connection (stdio, or in memory for tests): the initialize
/// handshake, then messages until `shutdown` and `exit`.
pub fn serve(connection: &Connection) -> Result<(), Box<dyn Error + Send + Sync>> {
    let init = serde_json::json!({
        "capabilities": capabilities(),
        "serverInfo": ServerInfo {
            name: "routerc".to_string(),
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
        },
    });
    let (id, _params) = connection.initialize_start()?;
    connection.initialize_finish(id, init)?;
    let mut server = Server {
        documents: Documents::default(),
        outgoing: Vec::new(),
    };
    loop {
        let message = match connection.receiver.recv() {
            Ok(m) => m,
            // The client went away without `exit`.
            Err(_) => return Ok(()),
        };
        if let Message::Request(req) = &message {
            if connection.handle_shutdown(req)? {
                return Ok(());
            }
        }
        server.handle(message);
        if connection.receiver.is_empty() {
            server.publish_diagnostics();
        }
        for m in server.outgoing.drain(..) {
            connection.sender.send(m)?;
        }
    }
}

struct Server {
    documents: Documents,
    /// Messages to send once the current one is handled.
    outgoing: Vec<Message>,
}

/// A request that could not be answered.
struct Failure {
    code: ErrorCode,
    message: String,
}

impl Failure {
    fn failed(message: impl Into<String>) -> Failure {
        Failure {
            code: ErrorCode::RequestFailed,
            message: message.into(),
        }
    }
}

type Answer = Result<Json, Failure>;

fn params<P: DeserializeOwned>(value: Json) -> Result<P, Failure> {
    serde_json::from_value(value).map_err(|e| Failure {
        code: ErrorCode::InvalidParams,
        message: format!("invalid parameters: {e}"),
    })
}

fn to_json(value: impl serde::Serialize) -> Answer {
    serde_json::to_value(value).map_err(|e| Failure {
        code: ErrorCode::InternalError,
        message: e.to_string(),
    })
}

impl Server {
    fn handle(&mut self, message: Message) {
        match message {
            Message::Request(req) => {
                let id = req.id.clone();
                // The engine is written never to panic; should it anyway, the request fails
                // and the server lives on with the editor's documents intact.
                let answer =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.request(req)))
                        .unwrap_or_else(|_| {
                            Err(Failure {
                                code: ErrorCode::InternalError,
                                message: "the language server failed on this request".to_string(),
                            })
                        });
                self.respond(id, answer);
            }
            Message::Notification(n) => self.notification(n),
            Message::Response(_) => {}
        }
    }

    fn respond(&mut self, id: RequestId, answer: Answer) {
        let response = match answer {
            Ok(result) => Response::new_ok(id, result),
            Err(f) => Response::new_err(id, f.code as i32, f.message),
        };
        self.outgoing.push(response.into());
    }

    fn notification(&mut self, n: Notification) {
        match n.method.as_str() {
            DidOpenTextDocument::METHOD => {
                if let Ok(p) = params::<lsp_types::DidOpenTextDocumentParams>(n.params) {
                    let d = p.text_document;
                    self.documents.open(d.uri, d.text, d.version);
                }
            }
            DidChangeTextDocument::METHOD => {
                if let Ok(p) = params::<lsp_types::DidChangeTextDocumentParams>(n.params) {
                    let d = p.text_document;
                    self.documents.change(&d.uri, d.version, p.content_changes);
                }
            }
            DidCloseTextDocument::METHOD => {
                if let Ok(p) = params::<lsp_types::DidCloseTextDocumentParams>(n.params) {
                    if let Some(doc) = self.documents.close(&p.text_document.uri) {
                        // Closed files keep no diagnostics in the problems list.
                        self.publish(doc.uri, Vec::new(), None);
                    }
                }
            }
            // A policy file changed on disk (a checkout, another editor): an open policy may
            // include it. Clients send this for the files their extension watches.
            DidChangeWatchedFiles::METHOD => self.documents.reload(),
            _ => {}
        }
    }

    fn publish(&mut self, uri: Uri, diagnostics: Vec<lsp_types::Diagnostic>, version: Option<i32>) {
        let params = PublishDiagnosticsParams {
            uri,
            diagnostics,
            version,
        };
        self.outgoing
            .push(Notification::new(PublishDiagnostics::METHOD.to_string(), params).into());
    }

    fn publish_diagnostics(&mut self) {
        for uri in self.documents.unpublished() {
            let Some(doc) = self.documents.get(&uri) else {
                continue;
            };
            let version = doc.version;
            if !doc.is_policy() {
                // A YAML file that is not (or no longer) a policy keeps no diagnostics.
                self.documents.mark_published(&uri);
                self.publish(uri, Vec::new(), Some(version));
                continue;
            }
            let Some(analysis) = self.documents.analysis(&uri) else {
                continue;
            };
            let diagnostics = match analysis.root() {
                Some(root) => {
                    let view = View::new(&analysis, &self.documents);
                    let mut list: Vec<lsp_types::Diagnostic> = analysis
                        .diagnostics(root)
                        .into_iter()
                        .map(|d| view.diagnostic(d))
                        .collect();
                    list.extend(
                        analysis
                            .included_diagnostics(root)
                            .into_iter()
                            .map(|(at, d)| view.included_diagnostic(at, d)),
                    );
                    list
                }
                None => Vec::new(),
            };
            self.documents.mark_published(&uri);
            self.publish(uri, diagnostics, Some(version));
        }
    }

    /// The analysis of the document a request is about, and the byte offset of its position.
    fn at(
        &mut self,
        uri: &Uri,
        position: Option<Position>,
    ) -> Result<(Rc<Analysis>, FileId, u32), Failure> {
        let analysis = self
            .documents
            .analysis(uri)
            .ok_or_else(|| Failure::failed(format!("`{}` is not open", uri.as_str())))?;
        let root = analysis
            .root()
            .ok_or_else(|| Failure::failed("the document could not be read"))?;
        let doc = self
            .documents
            .get(uri)
            .ok_or_else(|| Failure::failed("the document is not open"))?;
        let offset = position.map_or(0, |p| doc.lines.offset(&doc.text, p));
        Ok((analysis, root, offset))
    }

    fn request(&mut self, req: Request) -> Answer {
        // Every request about a document that is not a policy (YAML the editor sent because
        // the extension watches all YAML) has the empty answer, `null`, which each of them
        // allows.
        let about = req
            .params
            .pointer("/textDocument/uri")
            .and_then(Json::as_str);
        if let Some(uri) = about.and_then(|u| Uri::from_str(u).ok()) {
            if self.documents.get(&uri).is_some_and(|d| !d.is_policy()) {
                return Ok(Json::Null);
            }
        }
        match req.method.as_str() {
            HoverRequest::METHOD => {
                let p: lsp_types::HoverParams = params(req.params)?;
                let d = p.text_document_position_params;
                let (a, file, offset) = self.at(&d.text_document.uri, Some(d.position))?;
                let view = View::new(&a, &self.documents);
                to_json(a.hover(file, offset).map(|h| lsp_types::Hover {
                    contents: HoverContents::Markup(MarkupContent {
                        kind: MarkupKind::Markdown,
                        value: h.markdown,
                    }),
                    range: Some(view.range(h.span)),
                }))
            }
            Completion::METHOD => {
                let p: lsp_types::CompletionParams = params(req.params)?;
                let d = p.text_document_position;
                let (a, file, offset) = self.at(&d.text_document.uri, Some(d.position))?;
                let view = View::new(&a, &self.documents);
                let c = a.completions(file, offset);
                let range = view.range(c.replace);
                let items: Vec<CompletionItem> = c
                    .items
                    .into_iter()
                    .enumerate()
                    .map(|(i, item)| CompletionItem {
                        kind: Some(completion_kind(item.kind)),
                        detail: item.detail,
                        documentation: item.documentation.map(|d| {
                            Documentation::MarkupContent(MarkupContent {
                                kind: MarkupKind::Markdown,
                                value: d,
                            })
                        }),
                        // Keep the engine's order (declarations in the order written).
                        sort_text: Some(format!("{i:04}")),
                        filter_text: Some(item.label.clone()),
                        text_edit: Some(CompletionTextEdit::Edit(TextEdit {
                            range,
                            new_text: item.insert,
                        })),
                        label: item.label,
                        ..CompletionItem::default()
                    })
                    .collect();
                to_json(items)
            }
            GotoDefinition::METHOD => {
                let p: lsp_types::GotoDefinitionParams = params(req.params)?;
                let d = p.text_document_position_params;
                let (a, file, offset) = self.at(&d.text_document.uri, Some(d.position))?;
                let view = View::new(&a, &self.documents);
                let location = a.definition(file, offset).and_then(|s| view.location(s));
                to_json(location.map(GotoDefinitionResponse::Scalar))
            }
            References::METHOD => {
                let p: lsp_types::ReferenceParams = params(req.params)?;
                let d = p.text_document_position;
                let (a, file, offset) = self.at(&d.text_document.uri, Some(d.position))?;
                let view = View::new(&a, &self.documents);
                let found: Vec<Location> = a
                    .references(file, offset, p.context.include_declaration)
                    .into_iter()
                    .filter_map(|s| view.location(s))
                    .collect();
                to_json(found)
            }
            DocumentHighlightRequest::METHOD => {
                let p: lsp_types::DocumentHighlightParams = params(req.params)?;
                let d = p.text_document_position_params;
                let (a, file, offset) = self.at(&d.text_document.uri, Some(d.position))?;
                let view = View::new(&a, &self.documents);
                let found: Vec<lsp_types::DocumentHighlight> = a
                    .highlights(file, offset)
                    .into_iter()
                    .map(|(span, is_definition)| lsp_types::DocumentHighlight {
                        range: view.range(span),
                        kind: Some(if is_definition {
                            lsp_types::DocumentHighlightKind::WRITE
                        } else {
                            lsp_types::DocumentHighlightKind::READ
                        }),
                    })
                    .collect();
                to_json(found)
            }
            PrepareRenameRequest::METHOD => {
                let p: lsp_types::TextDocumentPositionParams = params(req.params)?;
                let (a, file, offset) = self.at(&p.text_document.uri, Some(p.position))?;
                let view = View::new(&a, &self.documents);
                let (span, _) = a.prepare_rename(file, offset).map_err(Failure::failed)?;
                to_json(PrepareRenameResponse::Range(view.range(span)))
            }
            Rename::METHOD => {
                let p: lsp_types::RenameParams = params(req.params)?;
                let d = p.text_document_position;
                let (a, file, offset) = self.at(&d.text_document.uri, Some(d.position))?;
                let view = View::new(&a, &self.documents);
                let edits = a
                    .rename(file, offset, &p.new_name)
                    .map_err(Failure::failed)?;
                // `Uri` hashes and compares by its text, which its parse cache never changes.
                #[allow(clippy::mutable_key_type)]
                let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
                for e in edits {
                    let uri = view.uri(e.span.file).ok_or_else(|| {
                        Failure::failed("a use is in a file the editor cannot address")
                    })?;
                    changes.entry(uri).or_default().push(TextEdit {
                        range: view.range(e.span),
                        new_text: e.text,
                    });
                }
                to_json(WorkspaceEdit {
                    changes: Some(changes),
                    ..WorkspaceEdit::default()
                })
            }
            DocumentSymbolRequest::METHOD => {
                let p: lsp_types::DocumentSymbolParams = params(req.params)?;
                let (a, file, _) = self.at(&p.text_document.uri, None)?;
                let view = View::new(&a, &self.documents);
                let symbols: Vec<lsp_types::DocumentSymbol> =
                    a.symbols(file).iter().map(|s| view.symbol(s)).collect();
                to_json(lsp_types::DocumentSymbolResponse::Nested(symbols))
            }
            Formatting::METHOD => {
                let p: lsp_types::DocumentFormattingParams = params(req.params)?;
                let (a, file, _) = self.at(&p.text_document.uri, None)?;
                let view = View::new(&a, &self.documents);
                let text = a.text(file);
                // One edit replacing the whole text: the formatter rewrites layout globally,
                // and editors keep the cursor sensibly for a single replacement.
                let edits: Vec<TextEdit> = a
                    .format(file)
                    .map(|new_text| TextEdit {
                        range: view.range(Span::new(file, 0, text.len())),
                        new_text,
                    })
                    .into_iter()
                    .collect();
                to_json(edits)
            }
            CodeActionRequest::METHOD => {
                let p: lsp_types::CodeActionParams = params(req.params)?;
                let uri = p.text_document.uri.clone();
                let (a, file, _) = self.at(&uri, None)?;
                let doc = self
                    .documents
                    .get(&uri)
                    .ok_or_else(|| Failure::failed("the document is not open"))?;
                let start = doc.lines.offset(&doc.text, p.range.start) as usize;
                let end = doc.lines.offset(&doc.text, p.range.end) as usize;
                let view = View::new(&a, &self.documents);
                let actions: Vec<CodeActionOrCommand> = a
                    .fixes(Span::new(file, start.min(end), start.max(end)))
                    .into_iter()
                    .map(|(d, fix)| {
                        let edit = TextEdit {
                            range: view.range(fix.span),
                            new_text: fix.replacement.clone(),
                        };
                        CodeActionOrCommand::CodeAction(CodeAction {
                            title: fix.title.clone(),
                            kind: Some(CodeActionKind::QUICKFIX),
                            diagnostics: Some(vec![view.diagnostic(d)]),
                            edit: Some(WorkspaceEdit {
                                changes: Some(HashMap::from([(uri.clone(), vec![edit])])),
                                ..WorkspaceEdit::default()
                            }),
                            is_preferred: Some(true),
                            ..CodeAction::default()
                        })
                    })
                    .collect();
                to_json(actions)
            }
            FoldingRangeRequest::METHOD => {
                let p: lsp_types::FoldingRangeParams = params(req.params)?;
                let (a, file, _) = self.at(&p.text_document.uri, None)?;
                let view = View::new(&a, &self.documents);
                let folds: Vec<FoldingRange> = a
                    .folding(file)
                    .into_iter()
                    .map(|f| {
                        let range = view.range(Span::new(file, f.start as usize, f.end as usize));
                        FoldingRange {
                            start_line: range.start.line,
                            end_line: range.end.line,
                            kind: f.comment.then_some(FoldingRangeKind::Comment),
                            ..FoldingRange::default()
                        }
                    })
                    .collect();
                to_json(folds)
            }
            other => Err(Failure {
                code: ErrorCode::MethodNotFound,
                message: format!("`{other}` is not supported"),
            }),
        }
    }
}

/// Converts the engine's spans (byte offsets in a program's files) to LSP locations.
struct View<'a> {
    analysis: &'a Analysis,
    documents: &'a Documents,
    /// Line indexes of the program's files, built on first use.
    lines: std::cell::RefCell<HashMap<FileId, Rc<LineIndex>>>,
}

impl<'a> View<'a> {
    fn new(analysis: &'a Analysis, documents: &'a Documents) -> View<'a> {
        View {
            analysis,
            documents,
            lines: Default::default(),
        }
    }

    fn range(&self, span: Span) -> Range {
        let text = self.analysis.text(span.file);
        let lines = self
            .lines
            .borrow_mut()
            .entry(span.file)
            .or_insert_with(|| Rc::new(LineIndex::new(text)))
            .clone();
        Range::new(
            lines.position(text, span.start),
            lines.position(text, span.end),
        )
    }

    fn uri(&self, file: FileId) -> Option<Uri> {
        let (_, source) = self
            .analysis
            .program()
            .sources
            .files()
            .nth(file.0 as usize)?;
        self.documents.uri_of(&source.path)
    }

    fn location(&self, span: Span) -> Option<Location> {
        Some(Location::new(self.uri(span.file)?, self.range(span)))
    }

    fn diagnostic(&self, d: &Diagnostic) -> lsp_types::Diagnostic {
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        let related: Vec<DiagnosticRelatedInformation> = d
            .related
            .iter()
            .filter_map(|(span, label)| {
                Some(DiagnosticRelatedInformation {
                    location: self.location(*span)?,
                    message: label.clone(),
                })
            })
            .collect();
        let unused = matches!(d.code.id, "W0005" | "W0006" | "W0007");
        lsp_types::Diagnostic {
            range: self.range(d.span),
            severity: Some(match d.severity() {
                Severity::Error => DiagnosticSeverity::ERROR,
                Severity::Warning => DiagnosticSeverity::WARNING,
            }),
            code: Some(NumberOrString::String(d.code.id.to_string())),
            source: Some("routerc".to_string()),
            message,
            related_information: (!related.is_empty()).then_some(related),
            // Editors grey out what is unused.
            tags: unused.then(|| vec![DiagnosticTag::UNNECESSARY]),
            ..lsp_types::Diagnostic::default()
        }
    }

    /// A diagnostic of an included file, shown on the `include` at `at` and pointing at the
    /// real place through its related information.
    fn included_diagnostic(&self, at: Span, d: &Diagnostic) -> lsp_types::Diagnostic {
        let file = &self.analysis.program().sources.get(d.span.file).name;
        let mut shown = self.diagnostic(d);
        shown.message = format!("in `{file}`: {}", shown.message);
        shown.range = self.range(at);
        shown.tags = None;
        let mut related = vec![];
        if let Some(location) = self.location(d.span) {
            let label = if d.label.is_empty() {
                &d.message
            } else {
                &d.label
            };
            related.push(DiagnosticRelatedInformation {
                location,
                message: label.clone(),
            });
        }
        related.extend(shown.related_information.take().unwrap_or_default());
        shown.related_information = (!related.is_empty()).then_some(related);
        shown
    }

    #[allow(deprecated)] // `deprecated` is a required field of the protocol type
    fn symbol(&self, s: &ide::DocumentSymbol) -> lsp_types::DocumentSymbol {
        lsp_types::DocumentSymbol {
            name: s.name.clone(),
            detail: s.detail.clone(),
            kind: symbol_kind(s.kind),
            tags: None,
            deprecated: None,
            range: self.range(s.span),
            selection_range: self.range(s.name_span),
            children: (!s.children.is_empty())
                .then(|| s.children.iter().map(|c| self.symbol(c)).collect()),
        }
    }
}

fn completion_kind(kind: CompletionKind) -> CompletionItemKind {
    match kind {
        CompletionKind::Keyword => CompletionItemKind::KEYWORD,
        CompletionKind::Signal => CompletionItemKind::VARIABLE,
        CompletionKind::Label => CompletionItemKind::ENUM_MEMBER,
        CompletionKind::Backend => CompletionItemKind::MODULE,
        CompletionKind::Prompt => CompletionItemKind::TEXT,
        CompletionKind::Route => CompletionItemKind::FUNCTION,
        CompletionKind::Field => CompletionItemKind::FIELD,
        CompletionKind::Value => CompletionItemKind::VALUE,
        CompletionKind::Type => CompletionItemKind::TYPE_PARAMETER,
        CompletionKind::Extractor => CompletionItemKind::FUNCTION,
        CompletionKind::Member => CompletionItemKind::PROPERTY,
    }
}

fn symbol_kind(kind: SymbolKind) -> lsp_types::SymbolKind {
    match kind {
        SymbolKind::Signal => lsp_types::SymbolKind::VARIABLE,
        SymbolKind::Label => lsp_types::SymbolKind::ENUM_MEMBER,
        SymbolKind::Backend => lsp_types::SymbolKind::MODULE,
        SymbolKind::Field => lsp_types::SymbolKind::FIELD,
        SymbolKind::Prompt => lsp_types::SymbolKind::STRING,
        SymbolKind::Route | SymbolKind::Default => lsp_types::SymbolKind::FUNCTION,
        SymbolKind::Test => lsp_types::SymbolKind::METHOD,
        SymbolKind::Include => lsp_types::SymbolKind::FILE,
    }
}
