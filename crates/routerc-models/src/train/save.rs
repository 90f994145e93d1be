//! Writing a trained network as a Hugging Face model directory that transformers and our own
//! loader both read: config.json in transformers' ModernBERT style (4.x field names, which
//! every version reads), model.safetensors in float16 under transformers' tensor names, and
//! tokenizer.json with its own padding and truncation switched off.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use candle_core::{DType, Tensor};
use candle_nn::VarMap;
use serde_json::{json, Value};

use crate::config::Task;
use crate::modernbert::{AttentionKind, ModernBertConfig, Pooling};
use crate::ModelError;

fn write_error(path: &Path, error: impl std::fmt::Display) -> ModelError {
    ModelError::Training {
        message: format!("cannot write `{}`: {error}", path.display()),
    }
}

/// config.json for the network, with `id2label` / `label2id` for `labels`.
pub fn config_json(config: &ModernBertConfig, task: Task, labels: &[String]) -> Value {
    let architecture = match task {
        Task::TokenClassification => "ModernBertForTokenClassification",
        _ => "ModernBertForSequenceClassification",
    };
    // The layer pattern is written the 4.x way: every n-th layer global, from layer 0.
    let global_every = config
        .layer_types
        .iter()
        .skip(1)
        .position(|kind| *kind == AttentionKind::Global)
        .map_or(config.layer_types.len().max(1), |index| index + 1);
    let id2label: BTreeMap<String, &String> = labels
        .iter()
        .enumerate()
        .map(|(id, label)| (id.to_string(), label))
        .collect();
    let label2id: BTreeMap<&String, usize> = labels
        .iter()
        .enumerate()
        .map(|(id, label)| (label, id))
        .collect();
    let activation = |activation| match activation {
        crate::blocks::Activation::Gelu => "gelu",
        crate::blocks::Activation::GeluTanh => "gelu_pytorch_tanh",
        crate::blocks::Activation::Relu => "relu",
        crate::blocks::Activation::Silu => "silu",
    };
    json!({
        "architectures": [architecture],
        "model_type": "modernbert",
        "vocab_size": config.vocab_size,
        "hidden_size": config.hidden_size,
        "intermediate_size": config.intermediate_size,
        "num_hidden_layers": config.num_hidden_layers(),
        "num_attention_heads": config.num_attention_heads,
        "hidden_activation": activation(config.hidden_activation),
        "max_position_embeddings": config.max_position_embeddings,
        "initializer_range": 0.02,
        "initializer_cutoff_factor": 2.0,
        "norm_eps": config.norm_eps,
        "layer_norm_eps": config.norm_eps,
        "norm_bias": config.norm_bias,
        "pad_token_id": config.pad_token_id,
        "global_attn_every_n_layers": global_every,
        "global_rope_theta": config.global_rope_theta,
        "local_attention": config.local_attention,
        "local_rope_theta": config.local_rope_theta,
        "attention_bias": config.attention_bias,
        "attention_dropout": 0.0,
        "embedding_dropout": 0.0,
        "mlp_bias": config.mlp_bias,
        "mlp_dropout": 0.0,
        "decoder_bias": true,
        "classifier_pooling": match config.classifier_pooling {
            Pooling::Cls => "cls",
            Pooling::Mean => "mean",
        },
        "classifier_dropout": 0.0,
        "classifier_bias": config.classifier_bias,
        "classifier_activation": activation(config.classifier_activation),
        "deterministic_flash_attn": false,
        "sparse_prediction": false,
        "sparse_pred_ignore_index": -100,
        "reference_compile": false,
        "id2label": id2label,
        "label2id": label2id,
        "torch_dtype": "float16",
        "transformers_version": "4.48.0"
    })
}

/// Rounds every variable to float16 in place (so the network in memory computes what the saved
/// file holds) and writes them to `path` as float16 safetensors.
pub fn save_weights(varmap: &VarMap, path: &Path) -> Result<(), ModelError> {
    let data = varmap.data().lock().map_err(ModelError::training)?;
    let mut tensors: BTreeMap<String, Tensor> = BTreeMap::new();
    for (name, var) in data.iter() {
        let half = var.to_dtype(DType::F16).map_err(ModelError::training)?;
        var.set(&half.to_dtype(DType::F32).map_err(ModelError::training)?)
            .map_err(ModelError::training)?;
        tensors.insert(name.clone(), half);
    }
    // transformers refuses safetensors files without a `format` entry in their metadata.
    let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
    safetensors::serialize_to_file(tensors, Some(metadata), path)
        .map_err(|error| write_error(path, error))
}

/// Copies `source` (a tokenizer.json) to `target` with padding and truncation switched off.
pub fn save_tokenizer(source: &Path, target: &Path) -> Result<(), ModelError> {
    let text = std::fs::read_to_string(source).map_err(|error| ModelError::Read {
        path: source.to_path_buf(),
        message: error.to_string().to_lowercase(),
    })?;
    let mut value: Value = serde_json::from_str(&text).map_err(|error| ModelError::Tokenizer {
        path: source.to_path_buf(),
        message: error.to_string(),
    })?;
    if let Some(map) = value.as_object_mut() {
        map.insert("padding".to_string(), Value::Null);
        map.insert("truncation".to_string(), Value::Null);
    }
    // Compact: the vocabulary is most of the file and nobody reads it by eye.
    let text = serde_json::to_string(&value).map_err(|error| write_error(target, error))?;
    std::fs::write(target, text).map_err(|error| write_error(target, error))
}

pub fn write_json(path: &Path, value: &Value) -> Result<(), ModelError> {
    let mut text = serde_json::to_string_pretty(value).map_err(|error| write_error(path, error))?;
    text.push('\n');
    std::fs::write(path, text).map_err(|error| write_error(path, error))
}
