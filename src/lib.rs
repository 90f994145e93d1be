//! routerc: a compiler, language server and gateway for LLM routing policies.
//!
//! The pipeline is the module list: [`syntax`] (text to AST), [`source`] (files and includes),
//! [`check`] (AST to a checked [`policy::Policy`], with diagnostics), [`fmt`] (AST back to
//! canonical text), [`render`] (diagnostics for people and machines).

pub mod check;
pub mod diagnostic;
pub mod fmt;
pub mod policy;
pub mod render;
pub mod source;
pub mod syntax;
