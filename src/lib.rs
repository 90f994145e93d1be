//! routerc: a compiler, language server and gateway for LLM routing policies.
//!
//! The pipeline is the module list: [`syntax`] (text to AST), [`source`] (files and includes),
//! [`check`] (AST to a checked [`policy::Policy`], with diagnostics), [`fmt`] (AST back to
//! canonical text), [`render`] (diagnostics for people and machines). On top of them,
//! [`ide`] answers an editor's questions and [`lsp`] speaks the Language Server Protocol.
//! [`yaml`] reads YAML policies (routerc's YAML form and vLLM Semantic Router configs) into
//! the same AST. [`engine`] lowers a checked policy to the decision IR and runs it, natively
//! compiled or interpreted.

pub mod check;
pub mod diagnostic;
pub mod engine;
pub mod fmt;
pub mod gateway;
pub mod ide;
pub mod lsp;
pub mod modelcli;
pub mod policy;
pub mod render;
pub mod signals;
pub mod source;
pub mod syntax;
pub mod yaml;

use std::path::Path;

/// Loads, parses and checks the policy at `path` with its includes: the whole front end in one
/// call. `program` holds the sources the diagnostics point into.
pub fn check_file(
    path: &Path,
    provider: &dyn source::SourceProvider,
) -> (source::Program, check::Checked) {
    let (program, diagnostics) = source::load(path, provider);
    let checked = check::check(&program, diagnostics);
    (program, checked)
}

/// The same for an in-memory text (no includes followed); used by tests and the language
/// server.
pub fn check_text(name: &str, text: &str) -> (source::Program, check::Checked) {
    let (program, diagnostics) = source::load_text(name, text);
    let checked = check::check(&program, diagnostics);
    (program, checked)
}
