//! The one error type of the model runtime.
//!
//! Every failure a user can cause (a missing file, a config field that is absent or has the
//! wrong type, an architecture we do not run, weights that do not match the config) is a
//! variant here whose message names the thing at fault. Messages are lowercase, carry user
//! input in backticks and never mention Rust types; a separate [`ModelError::help`] line says
//! what to do about it when there is something to do.
//!
//! This module does not decide how errors are rendered: the CLI and the checker do that.

use std::path::{Path, PathBuf};

/// Everything that can go wrong while loading or running a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The model directory itself is missing or is not a directory.
    #[error("model directory `{}` does not exist", .path.display())]
    MissingDirectory { path: PathBuf },

    /// A file every model directory needs is not there.
    #[error("`{file}` is missing from model directory `{}`", .dir.display())]
    MissingFile { dir: PathBuf, file: String },

    /// A file exists but could not be read.
    #[error("cannot read `{}`: {message}", .path.display())]
    Read { path: PathBuf, message: String },

    /// config.json is not valid JSON.
    #[error("`{}` is not valid JSON: {message}", .path.display())]
    InvalidJson { path: PathBuf, message: String },

    /// A config field the architecture needs is absent.
    #[error("config `{}` has no `{field}` field", .path.display())]
    MissingField { path: PathBuf, field: String },

    /// A config field is present but its value cannot be used.
    #[error("config `{}` has an invalid `{field}`: {message}", .path.display())]
    InvalidField {
        path: PathBuf,
        field: String,
        message: String,
    },

    /// The config names an architecture this runtime does not implement.
    #[error("architecture `{architecture}` is not supported (supported: {supported})")]
    UnsupportedArchitecture {
        architecture: String,
        supported: String,
    },

    /// tokenizer.json could not be parsed.
    #[error("cannot load tokenizer `{}`: {message}", .path.display())]
    Tokenizer { path: PathBuf, message: String },

    /// The weights file lacks a tensor the config implies.
    #[error("weights `{}` have no tensor `{tensor}`", .path.display())]
    MissingTensor { path: PathBuf, tensor: String },

    /// A tensor exists but its shape contradicts the config.
    #[error("tensor `{tensor}` in `{}` has shape {found:?}, the config implies {expected:?}", .path.display())]
    TensorShape {
        path: PathBuf,
        tensor: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },

    /// The weights file is damaged or in a format we cannot read.
    #[error("cannot read weights `{}`: {message}", .path.display())]
    Weights { path: PathBuf, message: String },

    /// The options passed to [`crate::Model::load`] contradict the model.
    #[error("invalid load option `{option}`: {message}")]
    InvalidOption { option: String, message: String },

    /// A text could not be tokenized.
    #[error("cannot tokenize `{text}`: {message}")]
    Tokenize { text: String, message: String },

    /// The operation does not fit the model's task (for example `embed` on a classifier).
    #[error("`{operation}` needs a {needed} model, but `{}` is a {actual} model", .model.display())]
    WrongTask {
        operation: &'static str,
        needed: &'static str,
        actual: &'static str,
        model: PathBuf,
    },

    /// The tensor computation failed; this is a bug or an exhausted resource, not bad input.
    #[error("inference failed: {message}")]
    Inference { message: String },

    /// A labelled data file (for training or evaluation) cannot be used.
    #[error("cannot use data file `{}`: {message}", .path.display())]
    Data { path: PathBuf, message: String },

    /// Training could not run or its result could not be saved.
    #[error("training failed: {message}")]
    Training { message: String },
}

impl ModelError {
    /// A sentence saying how to fix the problem, when there is one to give.
    pub fn help(&self) -> Option<String> {
        match self {
            ModelError::MissingDirectory { path } | ModelError::MissingFile { dir: path, .. }
                if is_minilm(path) =>
            {
                Some("install it with `scripts/install-minilm`".to_string())
            }
            ModelError::MissingDirectory { .. } => Some(
                "a model directory holds config.json, model.safetensors and tokenizer.json \
                 as Hugging Face saves them"
                    .to_string(),
            ),
            ModelError::MissingFile { file, .. } if file == "model.safetensors" => Some(
                "the weights may also be given as `pytorch_model.bin`; sharded checkpoints \
                 must be merged into one file first"
                    .to_string(),
            ),
            ModelError::UnsupportedArchitecture { .. } => Some(
                "the `architectures` field of config.json decides how the model is run".to_string(),
            ),
            ModelError::MissingTensor { .. } | ModelError::TensorShape { .. } => Some(
                "the weights do not belong to this config.json, or were saved by an \
                 architecture variant routerc does not run"
                    .to_string(),
            ),
            _ => None,
        }
    }

    pub(crate) fn training(error: impl std::fmt::Display) -> Self {
        ModelError::Training {
            message: first_line(&error.to_string()),
        }
    }

    pub(crate) fn inference(error: candle_core::Error) -> Self {
        ModelError::Inference {
            message: first_line(&error.to_string()),
        }
    }

    /// Turns an error raised while building a network from its weights into one that names
    /// the tensor at fault, so that a truncated or mismatched checkpoint is reported as such.
    pub(crate) fn from_weights(path: &Path, error: candle_core::Error) -> Self {
        // candle wraps the interesting error in backtrace and context layers.
        let mut inner = &error;
        while let candle_core::Error::WithBacktrace { inner: next, .. }
        | candle_core::Error::Context { inner: next, .. }
        | candle_core::Error::WithPath { inner: next, .. } = inner
        {
            inner = next;
        }
        match inner {
            candle_core::Error::CannotFindTensor { path: tensor }
            | candle_core::Error::SafeTensor(safetensors::SafeTensorError::TensorNotFound(
                tensor,
            )) => ModelError::MissingTensor {
                path: path.to_path_buf(),
                tensor: tensor.clone(),
            },
            candle_core::Error::UnexpectedShape { msg, expected, got } => ModelError::TensorShape {
                path: path.to_path_buf(),
                tensor: msg
                    .strip_prefix("shape mismatch for ")
                    .unwrap_or(msg)
                    .to_string(),
                expected: expected.dims().to_vec(),
                found: got.dims().to_vec(),
            },
            other => ModelError::Weights {
                path: path.to_path_buf(),
                message: first_line(&other.to_string()),
            },
        }
    }
}

/// candle appends backtraces and context on later lines; the first line is the message.
fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or_default().to_lowercase()
}

fn is_minilm(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| name.eq_ignore_ascii_case("all-MiniLM-L6-v2"))
}
