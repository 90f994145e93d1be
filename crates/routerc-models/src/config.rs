//! Step one of loading: read config.json and decide what network it describes.
//!
//! Configs exist in two styles and both are read here, into one [`ModelConfig`]:
//! - transformers 4.x, as the published ModernBERT and mmBERT checkpoints ship:
//!   `global_attn_every_n_layers`, `global_rope_theta`, `local_rope_theta`, `layer_norm_eps`
//!   (besides `norm_eps`), and `label2id` with integer values;
//! - transformers 5: `layer_types`, `rope_parameters` keyed by layer type, `norm_eps` only.
//!
//! Fields that give the network its shape (sizes, layer count, heads, window, rope bases,
//! epsilon) are required and a missing one is reported by name. Flags that transformers itself
//! defaults when absent (`*_bias`, activations, `classifier_pooling`) get the same defaults, so
//! a config transformers accepts is accepted here.
//!
//! This module only reads JSON: it touches no weights and no tokenizer.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::bert::BertConfig;
use crate::blocks::Activation;
use crate::modernbert::{AttentionKind, ModernBertConfig, Pooling};
use crate::ModelError;

/// The network families this runtime implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Family {
    /// ModernBERT and mmBERT (`model_type: modernbert`).
    ModernBert,
    /// BERT and its distilled variants such as MiniLM (`model_type: bert`).
    Bert,
}

/// What a model produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// One label distribution per text.
    SequenceClassification,
    /// One label distribution per token.
    TokenClassification,
    /// One unit-length vector per text.
    SentenceEmbedding,
}

impl Task {
    /// The name used in messages and reports.
    pub fn describe(self) -> &'static str {
        match self {
            Task::SequenceClassification => "sequence classification",
            Task::TokenClassification => "token classification",
            Task::SentenceEmbedding => "sentence embedding",
        }
    }
}

/// The architectures (`architectures[0]` in config.json) we run, and what each becomes.
const ARCHITECTURES: &[(&str, Family, Task)] = &[
    (
        "ModernBertForSequenceClassification",
        Family::ModernBert,
        Task::SequenceClassification,
    ),
    (
        "ModernBertForTokenClassification",
        Family::ModernBert,
        Task::TokenClassification,
    ),
    ("BertModel", Family::Bert, Task::SentenceEmbedding),
    // Checkpoints saved with a pre-training head keep the encoder under `bert.`; the head is
    // ignored and the encoder embeds sentences like a plain BertModel.
    ("BertForMaskedLM", Family::Bert, Task::SentenceEmbedding),
    ("BertForPreTraining", Family::Bert, Task::SentenceEmbedding),
];

/// The network-specific part of a config.
#[derive(Debug, Clone, PartialEq)]
pub enum EncoderConfig {
    ModernBert(ModernBertConfig),
    Bert(BertConfig),
}

/// Everything config.json says that the runtime needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelConfig {
    /// As written in config.json, e.g. `ModernBertForSequenceClassification`.
    pub architecture: String,
    pub family: Family,
    pub task: Task,
    /// Label names in id order; empty for embedding models.
    pub labels: Vec<String>,
    pub encoder: EncoderConfig,
    /// `dtype` (transformers 5) or `torch_dtype` (4.x), when given.
    pub declared_dtype: Option<String>,
}

impl ModelConfig {
    /// Reads and interprets `path` (a config.json).
    pub fn from_file(path: &Path) -> Result<Self, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|error| ModelError::Read {
            path: path.to_path_buf(),
            message: error.to_string().to_lowercase(),
        })?;
        Self::from_json(&text, path)
    }

    /// Interprets the text of a config.json; `path` is only used in messages.
    pub fn from_json(text: &str, path: &Path) -> Result<Self, ModelError> {
        let map: Map<String, Value> =
            serde_json::from_str(text).map_err(|error| ModelError::InvalidJson {
                path: path.to_path_buf(),
                message: error.to_string(),
            })?;
        let fields = Fields {
            path: path.to_path_buf(),
            map,
        };
        let architecture = match fields.optional::<Vec<String>>("architectures")? {
            Some(names) => names
                .into_iter()
                .next()
                .ok_or_else(|| ModelError::InvalidField {
                    path: fields.path.clone(),
                    field: "architectures".to_string(),
                    message: "the list is empty".to_string(),
                })?,
            // sentence-transformers' BERT configs always name one, but a bare `bert` config
            // can only mean the encoder.
            None if fields.optional::<String>("model_type")?.as_deref() == Some("bert") => {
                "BertModel".to_string()
            }
            None => return Err(fields.missing("architectures")),
        };
        let Some(&(_, family, task)) = ARCHITECTURES
            .iter()
            .find(|(name, _, _)| *name == architecture)
        else {
            return Err(ModelError::UnsupportedArchitecture {
                supported: ARCHITECTURES
                    .iter()
                    .map(|(name, _, _)| format!("`{name}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                architecture,
            });
        };
        let labels = match task {
            Task::SentenceEmbedding => Vec::new(),
            _ => fields.labels()?,
        };
        let encoder = match family {
            Family::ModernBert => EncoderConfig::ModernBert(fields.modernbert()?),
            Family::Bert => EncoderConfig::Bert(fields.bert()?),
        };
        let declared_dtype = match fields.optional::<String>("dtype")? {
            Some(dtype) => Some(dtype),
            None => fields.optional::<String>("torch_dtype")?,
        };
        Ok(Self {
            architecture,
            family,
            task,
            labels,
            encoder,
            declared_dtype,
        })
    }

    pub fn max_position_embeddings(&self) -> usize {
        match &self.encoder {
            EncoderConfig::ModernBert(config) => config.max_position_embeddings,
            EncoderConfig::Bert(config) => config.max_position_embeddings,
        }
    }

    pub fn pad_token_id(&self) -> u32 {
        match &self.encoder {
            EncoderConfig::ModernBert(config) => config.pad_token_id,
            EncoderConfig::Bert(config) => config.pad_token_id,
        }
    }
}

/// One entry of transformers 5's `rope_parameters`.
#[derive(Debug, Deserialize)]
struct RopeParameters {
    rope_theta: Option<f64>,
    rope_type: Option<String>,
}

/// The fields of a config.json, read one at a time so that a wrong type names its field.
struct Fields {
    path: PathBuf,
    map: Map<String, Value>,
}

impl Fields {
    fn missing(&self, field: &str) -> ModelError {
        ModelError::MissingField {
            path: self.path.clone(),
            field: field.to_string(),
        }
    }

    fn invalid(&self, field: &str, message: impl Into<String>) -> ModelError {
        ModelError::InvalidField {
            path: self.path.clone(),
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// The field's value, or `None` when it is absent or `null`.
    fn optional<T: DeserializeOwned>(&self, field: &str) -> Result<Option<T>, ModelError> {
        match self.map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => T::deserialize(value)
                .map(Some)
                .map_err(|error| self.invalid(field, error.to_string())),
        }
    }

    fn required<T: DeserializeOwned>(&self, field: &str) -> Result<T, ModelError> {
        self.optional(field)?.ok_or_else(|| self.missing(field))
    }

    fn positive(&self, field: &str) -> Result<usize, ModelError> {
        match self.required::<usize>(field)? {
            0 => Err(self.invalid(field, "must be greater than zero")),
            value => Ok(value),
        }
    }

    fn flag(&self, field: &str, default: bool) -> Result<bool, ModelError> {
        Ok(self.optional(field)?.unwrap_or(default))
    }

    fn activation(&self, field: &str, default: &str) -> Result<Activation, ModelError> {
        let name = self
            .optional::<String>(field)?
            .unwrap_or_else(|| default.to_string());
        Activation::from_config_name(&name).ok_or_else(|| {
            self.invalid(
                field,
                format!("activation `{name}` is not supported (supported: `gelu`, `gelu_new`, `gelu_pytorch_tanh`, `relu`, `silu`)"),
            )
        })
    }

    /// The epsilon of the layer norms: `norm_eps`, or 4.x's `layer_norm_eps`.
    fn norm_eps(&self, names: &[&str]) -> Result<f64, ModelError> {
        for name in names {
            if let Some(eps) = self.optional::<f64>(name)? {
                return Ok(eps);
            }
        }
        Err(self.missing(names[0]))
    }

    /// Label names in id order, from `id2label`, or from `label2id` when only that is given.
    ///
    /// 4.x configs write `label2id` values as integers, some tools as numeric strings; both are
    /// read, and when both maps are present they must agree.
    fn labels(&self) -> Result<Vec<String>, ModelError> {
        let id2label = self.optional::<BTreeMap<String, String>>("id2label")?;
        let label2id = self.optional::<BTreeMap<String, Value>>("label2id")?;
        let label2id = match label2id {
            Some(map) => Some(
                map.into_iter()
                    .map(|(label, id)| {
                        let id = match &id {
                            Value::Number(number) => number.as_u64(),
                            Value::String(text) => text.parse::<u64>().ok(),
                            _ => None,
                        }
                        .ok_or_else(|| {
                            self.invalid(
                                "label2id",
                                format!("the id of label `{label}` is not a non-negative integer"),
                            )
                        })?;
                        Ok((label, id as usize))
                    })
                    .collect::<Result<Vec<_>, ModelError>>()?,
            ),
            None => None,
        };
        let by_id: Vec<(usize, String)> = match (&id2label, &label2id) {
            (Some(id2label), _) => id2label
                .iter()
                .map(|(id, label)| {
                    id.parse::<usize>()
                        .map(|id| (id, label.clone()))
                        .map_err(|_| {
                            self.invalid("id2label", format!("key `{id}` is not an integer"))
                        })
                })
                .collect::<Result<_, _>>()?,
            (None, Some(label2id)) => label2id
                .iter()
                .map(|(label, id)| (*id, label.clone()))
                .collect(),
            (None, None) => return Err(self.missing("id2label")),
        };
        let mut labels = vec![None; by_id.len()];
        for (id, label) in by_id {
            let field = if id2label.is_some() {
                "id2label"
            } else {
                "label2id"
            };
            match labels.get_mut(id) {
                Some(slot @ None) => *slot = Some(label),
                Some(Some(_)) => return Err(self.invalid(field, format!("id {id} is given twice"))),
                None => {
                    return Err(self.invalid(
                        field,
                        format!("ids must run from 0 without gaps, found {id}"),
                    ))
                }
            }
        }
        let labels: Vec<String> = labels.into_iter().flatten().collect();
        if labels.is_empty() {
            return Err(self.invalid("id2label", "there are no labels"));
        }
        if let (Some(_), Some(label2id)) = (&id2label, &label2id) {
            for (label, id) in label2id {
                if labels.get(*id) != Some(label) {
                    return Err(self.invalid(
                        "label2id",
                        format!("label `{label}` has id {id}, but `id2label` disagrees"),
                    ));
                }
            }
        }
        Ok(labels)
    }

    fn modernbert(&self) -> Result<ModernBertConfig, ModelError> {
        let hidden_size = self.positive("hidden_size")?;
        let num_attention_heads = self.positive("num_attention_heads")?;
        if hidden_size % num_attention_heads != 0 || (hidden_size / num_attention_heads) % 2 != 0 {
            return Err(self.invalid(
                "num_attention_heads",
                format!("{num_attention_heads} heads do not split a hidden size of {hidden_size} into heads of even width"),
            ));
        }
        let layer_types = self.layer_types()?;
        let (global_rope_theta, local_rope_theta) = self.rope_thetas()?;
        let pooling = match self.optional::<String>("classifier_pooling")?.as_deref() {
            None | Some("cls") => Pooling::Cls,
            Some("mean") => Pooling::Mean,
            Some(other) => {
                return Err(self.invalid(
                    "classifier_pooling",
                    format!("`{other}` is neither `cls` nor `mean`"),
                ))
            }
        };
        Ok(ModernBertConfig {
            vocab_size: self.positive("vocab_size")?,
            hidden_size,
            intermediate_size: self.positive("intermediate_size")?,
            num_attention_heads,
            layer_types,
            max_position_embeddings: self.positive("max_position_embeddings")?,
            local_attention: self.positive("local_attention")?,
            global_rope_theta,
            local_rope_theta,
            norm_eps: self.norm_eps(&["norm_eps", "layer_norm_eps"])?,
            norm_bias: self.flag("norm_bias", false)?,
            attention_bias: self.flag("attention_bias", false)?,
            mlp_bias: self.flag("mlp_bias", false)?,
            hidden_activation: self.activation("hidden_activation", "gelu")?,
            classifier_pooling: pooling,
            classifier_bias: self.flag("classifier_bias", false)?,
            classifier_activation: self.activation("classifier_activation", "gelu")?,
            pad_token_id: self.required("pad_token_id")?,
        })
    }

    /// `layer_types` (transformers 5), else every n-th layer global from
    /// `global_attn_every_n_layers` (4.x), counting from layer 0.
    fn layer_types(&self) -> Result<Vec<AttentionKind>, ModelError> {
        let layers = self.positive("num_hidden_layers")?;
        if let Some(names) = self.optional::<Vec<String>>("layer_types")? {
            if names.len() != layers {
                return Err(self.invalid(
                    "layer_types",
                    format!(
                        "{} entries for {layers} layers (`num_hidden_layers`)",
                        names.len()
                    ),
                ));
            }
            return names
                .iter()
                .map(|name| match name.as_str() {
                    "full_attention" => Ok(AttentionKind::Global),
                    "sliding_attention" => Ok(AttentionKind::SlidingWindow),
                    other => Err(self.invalid(
                        "layer_types",
                        format!("`{other}` is neither `full_attention` nor `sliding_attention`"),
                    )),
                })
                .collect();
        }
        let every = match self.optional::<usize>("global_attn_every_n_layers")? {
            Some(0) => {
                return Err(self.invalid("global_attn_every_n_layers", "must be greater than zero"))
            }
            Some(every) => every,
            None => return Err(self.missing("layer_types")),
        };
        Ok((0..layers)
            .map(|index| {
                if index % every == 0 {
                    AttentionKind::Global
                } else {
                    AttentionKind::SlidingWindow
                }
            })
            .collect())
    }

    /// The rotary bases of global and sliding-window layers.
    fn rope_thetas(&self) -> Result<(f64, f64), ModelError> {
        if let Some(parameters) =
            self.optional::<BTreeMap<String, RopeParameters>>("rope_parameters")?
        {
            let theta = |layer_type: &str| -> Result<f64, ModelError> {
                let field = format!("rope_parameters.{layer_type}");
                let entry = parameters
                    .get(layer_type)
                    .ok_or_else(|| self.missing(&field))?;
                if let Some(kind) = entry.rope_type.as_deref().filter(|kind| *kind != "default") {
                    return Err(self.invalid(
                        &field,
                        format!("rope type `{kind}` is not supported (only `default`)"),
                    ));
                }
                entry
                    .rope_theta
                    .ok_or_else(|| self.missing(&format!("{field}.rope_theta")))
            };
            return Ok((theta("full_attention")?, theta("sliding_attention")?));
        }
        if let Some(global) = self.optional::<f64>("global_rope_theta")? {
            let local = self.required::<f64>("local_rope_theta")?;
            return Ok((global, local));
        }
        Err(self.missing("rope_parameters"))
    }

    fn bert(&self) -> Result<BertConfig, ModelError> {
        let hidden_size = self.positive("hidden_size")?;
        let num_attention_heads = self.positive("num_attention_heads")?;
        if hidden_size % num_attention_heads != 0 {
            return Err(self.invalid(
                "num_attention_heads",
                format!("{num_attention_heads} heads do not divide a hidden size of {hidden_size}"),
            ));
        }
        if let Some(kind) = self.optional::<String>("position_embedding_type")? {
            if kind != "absolute" {
                return Err(self.invalid(
                    "position_embedding_type",
                    format!("`{kind}` is not supported (only `absolute`)"),
                ));
            }
        }
        Ok(BertConfig {
            vocab_size: self.positive("vocab_size")?,
            hidden_size,
            num_hidden_layers: self.positive("num_hidden_layers")?,
            num_attention_heads,
            intermediate_size: self.positive("intermediate_size")?,
            hidden_act: self.activation("hidden_act", "gelu")?,
            max_position_embeddings: self.positive("max_position_embeddings")?,
            type_vocab_size: self.positive("type_vocab_size")?,
            layer_norm_eps: self.norm_eps(&["layer_norm_eps"])?,
            pad_token_id: self.optional("pad_token_id")?.unwrap_or(0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<ModelConfig, ModelError> {
        ModelConfig::from_json(json, Path::new("config.json"))
    }

    const OLD_STYLE: &str = r#"{
        "architectures": ["ModernBertForSequenceClassification"],
        "hidden_size": 64, "intermediate_size": 96, "num_attention_heads": 4,
        "num_hidden_layers": 4, "global_attn_every_n_layers": 3,
        "global_rope_theta": 160000.0, "local_rope_theta": 10000.0,
        "layer_norm_eps": 1e-5, "local_attention": 16, "max_position_embeddings": 512,
        "vocab_size": 100, "pad_token_id": 0, "classifier_pooling": "mean",
        "id2label": {"0": "benign", "1": "jailbreak"},
        "label2id": {"benign": 0, "jailbreak": 1}
    }"#;

    #[test]
    fn reads_transformers_4_style() {
        let config = parse(OLD_STYLE).expect("config parses");
        assert_eq!(config.labels, vec!["benign", "jailbreak"]);
        let EncoderConfig::ModernBert(encoder) = config.encoder else {
            panic!("not a ModernBERT config")
        };
        use AttentionKind::*;
        assert_eq!(
            encoder.layer_types,
            vec![Global, SlidingWindow, SlidingWindow, Global]
        );
        assert_eq!(
            (encoder.global_rope_theta, encoder.local_rope_theta),
            (160000.0, 10000.0)
        );
        assert_eq!(encoder.norm_eps, 1e-5);
        assert_eq!(encoder.classifier_pooling, Pooling::Mean);
    }

    #[test]
    fn labels_may_come_from_label2id_alone() {
        let json = OLD_STYLE.replace(r#""id2label": {"0": "benign", "1": "jailbreak"},"#, "");
        let config = parse(&json).expect("config parses");
        assert_eq!(config.labels, vec!["benign", "jailbreak"]);
    }

    #[test]
    fn disagreeing_label_maps_are_an_error() {
        let json = OLD_STYLE.replace(r#""jailbreak": 1}"#, r#""jailbreak": 0}"#);
        let error = parse(&json).expect_err("maps disagree").to_string();
        assert!(error.contains("`label2id`"), "{error}");
    }

    #[test]
    fn a_field_of_the_wrong_type_is_named() {
        let json = OLD_STYLE.replace(r#""hidden_size": 64"#, r#""hidden_size": "big""#);
        let error = parse(&json).expect_err("wrong type").to_string();
        assert!(error.contains("`hidden_size`"), "{error}");
    }

    #[test]
    fn missing_rope_bases_name_the_new_style_field() {
        let json = OLD_STYLE.replace(
            r#""global_rope_theta": 160000.0, "local_rope_theta": 10000.0,"#,
            "",
        );
        let error = parse(&json).expect_err("no rope").to_string();
        assert!(error.contains("`rope_parameters`"), "{error}");
    }
}
