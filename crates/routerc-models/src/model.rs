//! The public face of the runtime: load a model directory once, then classify or embed texts
//! from any number of threads.
//!
//! [`Model::load`] composes the loading steps: config.json ([`crate::config`]) → weights
//! ([`crate::weights`]) → network ([`crate::modernbert`] or [`crate::bert`]) → tokenizer
//! ([`crate::tokenize`]). The result is immutable, `Send + Sync`, and meant to be shared behind
//! an `Arc`; every call runs on the caller's thread.
//!
//! This module does not decide what a signal means (thresholds, label sets): the policy engine
//! does. It returns raw logits next to probabilities so that callers can.

use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};

use crate::bert::Bert;
use crate::blocks::Kernels;
use crate::config::{EncoderConfig, Family, ModelConfig, Task};
use crate::modernbert::{ModernBertSequenceClassifier, ModernBertTokenClassifier};
use crate::tokenize::{TextTokenizer, TokenizedText, Truncation};
use crate::{weights, ModelError};

const CONFIG: &str = "config.json";
const TOKENIZER: &str = "tokenizer.json";

/// Choices made when loading a model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// The longest input in tokens, special tokens included. `None` means the model's limit
    /// (`max_position_embeddings`); a larger value is an error.
    pub max_length: Option<usize>,
    /// What to keep of a longer input.
    pub truncation: Truncation,
}

/// What a loaded model is, for `routerc model inspect` and for the checker.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ModelInfo {
    pub path: PathBuf,
    /// As named in config.json, e.g. `ModernBertForSequenceClassification`.
    pub architecture: String,
    pub family: Family,
    pub task: Task,
    /// Label names in id order; empty for embedding models.
    pub labels: Vec<String>,
    pub parameters: usize,
    /// The dtype of the stored weights (`float32`, `float16`, `bfloat16`); we compute in f32.
    pub weights_dtype: String,
    pub weights_file: PathBuf,
    pub weights_bytes: u64,
    pub hidden_size: usize,
    pub layers: usize,
    pub vocab_size: usize,
    /// The longest input accepted, special tokens included.
    pub max_length: usize,
    /// The model's own positional limit.
    pub max_position_embeddings: usize,
    pub truncation: Truncation,
    /// For embedding models, the length of each vector.
    pub embedding_size: Option<usize>,
}

/// The label distribution of one text.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Classification {
    /// The most probable label.
    pub label: String,
    pub label_id: usize,
    /// Its probability.
    pub score: f32,
    /// One entry per label, in id order.
    pub logits: Vec<f32>,
    pub probs: Vec<f32>,
    /// Tokens of the text that truncation removed.
    pub dropped_tokens: usize,
}

/// The prediction for one token.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TokenPrediction {
    pub token: String,
    pub id: u32,
    /// Byte range in the text (empty for special tokens).
    pub start: usize,
    pub end: usize,
    /// Character range in the text.
    pub char_start: usize,
    pub char_end: usize,
    /// Whether the tokenizer added it ([CLS], [SEP]) rather than read it from the text.
    pub special: bool,
    pub label: String,
    pub label_id: usize,
    pub score: f32,
    pub logits: Vec<f32>,
    pub probs: Vec<f32>,
}

/// A run of tokens carrying one entity label (`B-EMAIL I-EMAIL …` becomes one `EMAIL`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EntitySpan {
    /// The label without its `B-`/`I-` prefix.
    pub label: String,
    /// Byte range in the text.
    pub start: usize,
    pub end: usize,
    /// Character range in the text.
    pub char_start: usize,
    pub char_end: usize,
    pub text: String,
    /// The mean probability of its tokens' labels.
    pub score: f32,
}

/// The per-token labels of one text.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TokenClassification {
    /// Every token the model saw, special tokens included.
    pub tokens: Vec<TokenPrediction>,
    /// Consecutive tokens with an entity label, merged; `O` and special tokens are left out.
    pub entities: Vec<EntitySpan>,
    pub dropped_tokens: usize,
}

#[derive(Debug)]
enum Network {
    SequenceClassifier(ModernBertSequenceClassifier),
    TokenClassifier(ModernBertTokenClassifier),
    Embedder(Bert),
}

/// A loaded model: weights, tokenizer and labels.
#[derive(Debug)]
pub struct Model {
    network: Network,
    tokenizer: TextTokenizer,
    info: ModelInfo,
    device: Device,
}

impl Model {
    /// Loads the model in `dir` (config.json, model.safetensors or pytorch_model.bin,
    /// tokenizer.json).
    pub fn load(dir: impl AsRef<Path>, options: &LoadOptions) -> Result<Self, ModelError> {
        let dir = dir.as_ref();
        if !dir.is_dir() {
            return Err(ModelError::MissingDirectory {
                path: dir.to_path_buf(),
            });
        }
        let config_path = dir.join(CONFIG);
        if !config_path.is_file() {
            return Err(missing_file(dir, CONFIG));
        }
        let config = ModelConfig::from_file(&config_path)?;
        let tokenizer_path = dir.join(TOKENIZER);
        if !tokenizer_path.is_file() {
            return Err(missing_file(dir, TOKENIZER));
        }
        let device = Device::Cpu;
        let (file, builder) = weights::open(dir, &device)?;
        let weights_error = |error| ModelError::from_weights(&file.path, error);
        let labels = config.labels.len();
        let network = match (&config.encoder, config.task) {
            (EncoderConfig::ModernBert(encoder), Task::SequenceClassification) => {
                Network::SequenceClassifier(
                    ModernBertSequenceClassifier::load(encoder, labels, Kernels::Fused, builder)
                        .map_err(weights_error)?,
                )
            }
            (EncoderConfig::ModernBert(encoder), Task::TokenClassification) => {
                Network::TokenClassifier(
                    ModernBertTokenClassifier::load(encoder, labels, Kernels::Fused, builder)
                        .map_err(weights_error)?,
                )
            }
            (EncoderConfig::Bert(encoder), Task::SentenceEmbedding) => {
                // Checkpoints saved from a model with a head (BertForMaskedLM, …) keep the
                // encoder under `bert.`; sentence-transformers saves it at the top level.
                let builder = if file.contains("bert.embeddings.word_embeddings.weight") {
                    builder.pp("bert")
                } else {
                    builder
                };
                Network::Embedder(
                    Bert::load(encoder, Kernels::Fused, builder).map_err(weights_error)?,
                )
            }
            (_, task) => {
                return Err(ModelError::UnsupportedArchitecture {
                    architecture: format!("{} for {}", config.architecture, task.describe()),
                    supported: "ModernBERT classifiers and BERT embedders".to_string(),
                })
            }
        };
        let limit = config.max_position_embeddings();
        let max_length = match options.max_length {
            Some(0) => {
                return Err(ModelError::InvalidOption {
                    option: "max_length".to_string(),
                    message: "must be greater than zero".to_string(),
                })
            }
            Some(length) if length > limit => {
                return Err(ModelError::InvalidOption {
                    option: "max_length".to_string(),
                    message: format!("{length} exceeds the model's limit of {limit} tokens"),
                })
            }
            Some(length) => length,
            None => limit,
        };
        let tokenizer = TextTokenizer::from_file(
            &tokenizer_path,
            max_length,
            options.truncation,
            config.pad_token_id(),
        )?;
        let (hidden_size, layers, vocab_size) = match &config.encoder {
            EncoderConfig::ModernBert(encoder) => (
                encoder.hidden_size,
                encoder.num_hidden_layers(),
                encoder.vocab_size,
            ),
            EncoderConfig::Bert(encoder) => (
                encoder.hidden_size,
                encoder.num_hidden_layers,
                encoder.vocab_size,
            ),
        };
        let info = ModelInfo {
            path: dir.to_path_buf(),
            architecture: config.architecture.clone(),
            family: config.family,
            task: config.task,
            labels: config.labels.clone(),
            parameters: file.parameters(),
            weights_dtype: file.dtype_name(),
            weights_file: file.path.clone(),
            weights_bytes: file.bytes,
            hidden_size,
            layers,
            vocab_size,
            max_length,
            max_position_embeddings: limit,
            truncation: options.truncation,
            embedding_size: (config.task == Task::SentenceEmbedding).then_some(hidden_size),
        };
        Ok(Self {
            network,
            tokenizer,
            info,
            device,
        })
    }

    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Label names in id order (empty for embedding models).
    pub fn labels(&self) -> &[String] {
        &self.info.labels
    }

    /// The tokens the model would see for `text`, after truncation.
    pub fn tokenize(&self, text: &str) -> Result<TokenizedText, ModelError> {
        self.tokenizer.tokenize(text)
    }

    /// Classifies each text (a sequence-classification model only).
    pub fn classify(&self, texts: &[&str]) -> Result<Vec<Classification>, ModelError> {
        let Network::SequenceClassifier(network) = &self.network else {
            return Err(self.wrong_task("classify", Task::SequenceClassification));
        };
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let tokenized = self.tokenize_all(texts)?;
        let batch = self.tokenizer.batch(&tokenized, &self.device)?;
        let logits = network
            .forward(&batch.input_ids, &batch.attention_mask)
            .and_then(|logits| logits.to_vec2::<f32>())
            .map_err(ModelError::inference)?;
        Ok(logits
            .into_iter()
            .zip(&tokenized)
            .map(|(logits, text)| {
                let (label_id, probs) = softmax(&logits);
                Classification {
                    label: self.info.labels[label_id].clone(),
                    label_id,
                    score: probs[label_id],
                    logits,
                    probs,
                    dropped_tokens: text.dropped,
                }
            })
            .collect())
    }

    /// Labels every token of each text (a token-classification model only).
    pub fn classify_tokens(&self, texts: &[&str]) -> Result<Vec<TokenClassification>, ModelError> {
        let Network::TokenClassifier(network) = &self.network else {
            return Err(self.wrong_task("classify_tokens", Task::TokenClassification));
        };
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let tokenized = self.tokenize_all(texts)?;
        let batch = self.tokenizer.batch(&tokenized, &self.device)?;
        let logits = network
            .forward(&batch.input_ids, &batch.attention_mask)
            .and_then(|logits| logits.to_vec3::<f32>())
            .map_err(ModelError::inference)?;
        Ok(logits
            .into_iter()
            .zip(&tokenized)
            .zip(texts)
            .map(|((rows, tokens), text)| self.token_classification(text, tokens, rows))
            .collect())
    }

    /// Mean-pooled, unit-length sentence embeddings (an embedding model only).
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, ModelError> {
        let Network::Embedder(network) = &self.network else {
            return Err(self.wrong_task("embed", Task::SentenceEmbedding));
        };
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let tokenized = self.tokenize_all(texts)?;
        let batch = self.tokenizer.batch(&tokenized, &self.device)?;
        network
            .embed(&batch.input_ids, &batch.type_ids, &batch.attention_mask)
            .and_then(|embeddings| embeddings.to_vec2::<f32>())
            .map_err(ModelError::inference)
    }

    /// Runs the network on ids the caller tokenized: `(batch, seq)` ids and 0/1 mask, giving
    /// logits `(batch, labels)` or `(batch, seq, labels)`, or embeddings `(batch, hidden)`.
    /// For tests and tools that compare against reference outputs token for token.
    pub fn forward_ids(
        &self,
        input_ids: &Tensor,
        attention_mask: &Tensor,
    ) -> Result<Tensor, ModelError> {
        let result = match &self.network {
            Network::SequenceClassifier(network) => network.forward(input_ids, attention_mask),
            Network::TokenClassifier(network) => network.forward(input_ids, attention_mask),
            Network::Embedder(network) => input_ids
                .zeros_like()
                .and_then(|types| network.embed(input_ids, &types, attention_mask)),
        };
        result.map_err(ModelError::inference)
    }

    fn tokenize_all(&self, texts: &[&str]) -> Result<Vec<TokenizedText>, ModelError> {
        texts
            .iter()
            .map(|text| self.tokenizer.tokenize(text))
            .collect()
    }

    fn token_classification(
        &self,
        text: &str,
        tokens: &TokenizedText,
        rows: Vec<Vec<f32>>,
    ) -> TokenClassification {
        let predictions: Vec<TokenPrediction> = rows
            .into_iter()
            .take(tokens.len())
            .enumerate()
            .map(|(index, logits)| {
                let (label_id, probs) = softmax(&logits);
                let (start, end) = tokens.offsets[index];
                let (char_start, char_end) = tokens.char_offsets[index];
                TokenPrediction {
                    token: tokens.tokens[index].clone(),
                    id: tokens.ids[index],
                    start,
                    end,
                    char_start,
                    char_end,
                    special: tokens.special[index],
                    label: self.info.labels[label_id].clone(),
                    label_id,
                    score: probs[label_id],
                    logits,
                    probs,
                }
            })
            .collect();
        TokenClassification {
            entities: entity_spans(text, &predictions),
            tokens: predictions,
            dropped_tokens: tokens.dropped,
        }
    }

    fn wrong_task(&self, operation: &'static str, needed: Task) -> ModelError {
        ModelError::WrongTask {
            operation,
            needed: needed.describe(),
            actual: self.info.task.describe(),
            model: self.info.path.clone(),
        }
    }
}

fn missing_file(dir: &Path, file: &str) -> ModelError {
    ModelError::MissingFile {
        dir: dir.to_path_buf(),
        file: file.to_string(),
    }
}

/// Probabilities from logits, and the index of the largest.
fn softmax(logits: &[f32]) -> (usize, Vec<f32>) {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f64> = logits
        .iter()
        .map(|&logit| f64::from(logit - max).exp())
        .collect();
    let total: f64 = exps.iter().sum();
    let probs: Vec<f32> = exps.iter().map(|value| (value / total) as f32).collect();
    let best = probs.iter().enumerate().fold(
        0,
        |best, (index, prob)| if *prob > probs[best] { index } else { best },
    );
    (best, probs)
}

/// Merges consecutive tokens labelled `B-X`/`I-X` (or plain `X`) into spans of `X`.
///
/// A `B-` always opens a new span; an `I-` continues the open span of the same entity and
/// otherwise opens one, as transformers' "simple" aggregation does with imperfect predictions.
fn entity_spans(text: &str, tokens: &[TokenPrediction]) -> Vec<EntitySpan> {
    let mut spans: Vec<(EntitySpan, usize)> = Vec::new();
    let mut open = false;
    for token in tokens {
        let (begins, entity) = match token.label.split_once('-') {
            Some(("B", entity)) => (true, entity),
            Some(("I", entity)) => (false, entity),
            _ => (false, token.label.as_str()),
        };
        if token.special || entity == "O" || token.start == token.end {
            open = false;
            continue;
        }
        match spans.last_mut() {
            Some((span, count)) if open && !begins && span.label == entity => {
                span.end = token.end;
                span.char_end = token.char_end;
                span.score += token.score;
                *count += 1;
            }
            _ => {
                spans.push((
                    EntitySpan {
                        label: entity.to_string(),
                        start: token.start,
                        end: token.end,
                        char_start: token.char_start,
                        char_end: token.char_end,
                        text: String::new(),
                        score: token.score,
                    },
                    1,
                ));
                open = true;
            }
        }
    }
    spans
        .into_iter()
        .map(|(mut span, count)| {
            span.text = text
                .get(span.start..span.end)
                .unwrap_or_default()
                .to_string();
            span.score /= count as f32;
            span
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(label: &str, start: usize, end: usize) -> TokenPrediction {
        TokenPrediction {
            token: String::new(),
            id: 0,
            start,
            end,
            char_start: start,
            char_end: end,
            special: false,
            label: label.to_string(),
            label_id: 0,
            score: 0.5,
            logits: Vec::new(),
            probs: Vec::new(),
        }
    }

    #[test]
    fn bio_tags_merge_into_spans() {
        let text = "call John Smith at 555";
        let tokens = [
            token("O", 0, 4),
            token("B-PERSON", 5, 9),
            token("I-PERSON", 10, 15),
            token("O", 16, 18),
            token("B-PHONE", 19, 22),
        ];
        let spans = entity_spans(text, &tokens);
        let found: Vec<_> = spans
            .iter()
            .map(|span| (span.label.as_str(), span.text.as_str()))
            .collect();
        assert_eq!(found, vec![("PERSON", "John Smith"), ("PHONE", "555")]);
    }

    #[test]
    fn softmax_sums_to_one_and_picks_the_largest() {
        let (best, probs) = softmax(&[1.0, 3.0, 2.0]);
        assert_eq!(best, 1);
        assert!((probs.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    }
}
