//! routerc's model runtime: Hugging Face ModernBERT, mmBERT and BERT checkpoints run on the
//! CPU with candle, for the neural signals of a routing policy (domain, jailbreak, PII,
//! example-based similarity).
//!
//! Loading is a pipeline, one module per step, composed by [`Model::load`]:
//! 1. [`config`]: config.json (transformers 4.x or 5 style) → architecture, task, labels, shape;
//! 2. `weights`: model.safetensors (memory-mapped) or pytorch_model.bin → f32 tensors;
//! 3. [`modernbert`] / [`bert`]: the networks, built from those tensors with [`blocks`]
//!    (and, for inference, the hand-written CPU kernels of `kernels`);
//! 4. [`tokenize`]: tokenizer.json with our truncation and padding.
//!
//! [`model`] is the interface the rest of routerc uses (classify, classify tokens, embed);
//! [`report`] formats what `routerc model inspect` and `routerc model run` print; [`threads`]
//! holds the one process-wide threading decision.
//!
//! Invariants: a [`Model`] is immutable after loading and `Send + Sync`, so one copy serves
//! every request thread; nothing here downloads anything; every user-facing failure is a
//! [`ModelError`] naming the file, field or tensor at fault.
//!
//! This crate knows nothing about policies, signals or HTTP.

pub mod bert;
pub mod blocks;
pub mod config;
pub mod dataset;
mod error;
pub mod eval;
mod kernels;
pub mod model;
pub mod modernbert;
pub mod report;
pub mod threads;
pub mod tokenize;
pub mod train;
mod weights;

pub use blocks::Kernels;
pub use config::{Family, ModelConfig, Task};
pub use error::ModelError;
pub use model::{
    Classification, EntitySpan, LoadOptions, Model, ModelInfo, TokenClassification, TokenPrediction,
};
pub use report::{inspect_report, run_report, InspectReport, RunReport};
pub use tokenize::{TokenizedText, Truncation};
