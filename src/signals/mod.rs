//! Signals: the facts a policy reads from a request, computed by the real extractors.
//!
//! Shared by `routerc serve`, `routerc eval --request` and the benchmarks; knows nothing of
//! HTTP. The steps, one module each:
//!
//! 1. [`input`]: the request as signals see it (messages, model, headers) and the text each
//!    signal reads (`text: last_user | conversation | system`);
//! 2. [`plan`]: a policy's signals prepared once: keywords ([`keywords`], Aho–Corasick),
//!    regexes, models resolved and loaded ([`models`]) with their labels bound, example
//!    sentences embedded;
//! 3. [`source`]: one request's signals behind the engine's lazy `SignalSource`: each
//!    computed at most once, when the engine first reads it; the expensive signals every
//!    decision reads computed in parallel first; what was found (matched keywords, PII spans,
//!    nearest examples) kept for the decision trace.
//!
//! Beside them: [`pii`] (validators that find structured PII without a model), [`language`]
//! (language detection), and [`check`] (the `E05xx` diagnostics when a model or file a policy
//! needs is missing).

pub mod check;
pub mod input;
pub mod keywords;
pub mod language;
pub mod models;
pub mod pii;
pub mod plan;
pub mod source;

pub use input::{Input, Turn};
pub use models::{ModelCache, ModelSearch};
pub use plan::{PlanError, PlanOptions, SignalPlan};
pub use source::{RequestSignals, Value};
