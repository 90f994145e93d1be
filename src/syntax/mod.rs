//! Syntax: spans, tokens, the AST and the parser. Nothing here knows what a name means; the
//! checker does that.

pub mod ast;
pub mod incremental;
pub mod lexer;
pub mod parser;
pub mod span;

pub use parser::{parse, Parsed};
pub use span::{FileId, Span};
