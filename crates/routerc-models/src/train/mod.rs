//! Training small ModernBERT classifiers with candle: `routerc train`.
//!
//! The network is our own [`crate::modernbert`] built with [`Kernels::Differentiable`] (the
//! fused rotary op has no backward pass) from the variables of a `VarMap`, so what is trained
//! is exactly what [`crate::Model::load`] later runs. Steps:
//! 1. read the labelled data ([`crate::dataset`]) and tokenize it with the tokenizer the model
//!    will ship; for token classification each token gets `B-X`/`I-X`/`O` from the character
//!    spans (special tokens are left out of the loss);
//! 2. build the network, give every variable a seeded initial value ([`init`]); the token
//!    embeddings may start as a larger model's word embeddings projected by PCA, and may stay
//!    frozen;
//! 3. AdamW with linear warm-up and decay, batches of similar lengths, seeded shuffling;
//! 4. save a Hugging Face directory ([`save`]): config.json, float16 model.safetensors,
//!    tokenizer.json, and training.json (the options and the loss curve);
//! 5. reload it through [`crate::Model::load`] and check that it reproduces the training-time
//!    logits on a sample of the data.
//!
//! Everything random comes from one seed, so a run is reproducible on the same machine.

pub mod init;
pub mod save;

use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{DType, Device, Tensor, D};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarBuilder, VarMap};

use crate::blocks::{Activation, Kernels};
use crate::config::Task;
use crate::dataset::{self, normalise_label};
use crate::modernbert::{
    AttentionKind, ModernBertConfig, ModernBertSequenceClassifier, ModernBertTokenClassifier,
    Pooling,
};
use crate::tokenize::{TextTokenizer, Truncation};
use crate::{LoadOptions, Model, ModelError};

use init::Rng;

/// The shape of the network to train.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Shape {
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub intermediate: usize,
    /// Every n-th layer attends globally (from layer 0), the others in a window.
    pub global_every: usize,
    /// The sliding window's full width in tokens.
    pub local_attention: usize,
    pub max_positions: usize,
}

impl Default for Shape {
    fn default() -> Self {
        Self {
            hidden: 128,
            layers: 4,
            heads: 4,
            intermediate: 256,
            global_every: 3,
            local_attention: 128,
            max_positions: 512,
        }
    }
}

/// Everything a training run depends on.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrainOptions {
    pub task: Task,
    pub data: PathBuf,
    pub out: PathBuf,
    /// Label names in id order. For sequence classification, `None` means the data's labels
    /// sorted; for token classification these are the entity types (`O`, `B-X`, `I-X` are
    /// derived), and `None` means the data's types sorted.
    pub labels: Option<Vec<String>>,
    pub tokenizer: PathBuf,
    /// A BERT model directory whose word embeddings, projected by PCA, start the token
    /// embeddings (its vocabulary must be the tokenizer's).
    pub init_embeddings: Option<PathBuf>,
    pub freeze_embeddings: bool,
    pub shape: Shape,
    pub pooling: Pooling,
    /// Training inputs are cut to this many tokens.
    pub max_length: usize,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub weight_decay: f64,
    /// The fraction of steps over which the learning rate rises from zero.
    pub warmup: f64,
    /// The probability that a text token of a training batch is replaced by `[UNK]`: a
    /// regulariser that stops a model from leaning on any one word of templated data.
    pub token_dropout: f64,
    pub seed: u64,
}

impl TrainOptions {
    /// Defaults for everything but the task and the paths.
    pub fn new(task: Task, data: PathBuf, out: PathBuf, tokenizer: PathBuf) -> Self {
        Self {
            task,
            data,
            out,
            labels: None,
            tokenizer,
            init_embeddings: None,
            freeze_embeddings: false,
            shape: Shape::default(),
            pooling: Pooling::Mean,
            max_length: 128,
            epochs: 3,
            batch_size: 32,
            learning_rate: 1e-3,
            weight_decay: 0.01,
            warmup: 0.06,
            token_dropout: 0.0,
            seed: 17,
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrainReport {
    pub out: PathBuf,
    pub labels: Vec<String>,
    pub examples: usize,
    pub steps: usize,
    pub parameters: usize,
    pub trainable_parameters: usize,
    pub weights_bytes: u64,
    /// The mean loss of the first and last tenth of the steps.
    pub first_loss: f32,
    pub last_loss: f32,
    pub epoch_losses: Vec<f32>,
    /// Training-set accuracy (tokens for token classification) measured during the last epoch.
    pub last_epoch_accuracy: f32,
    pub seconds: f64,
    /// The largest logit difference between the network at the end of training and the
    /// reloaded directory, over the checked examples.
    pub reload_max_difference: f32,
    pub reload_checked: usize,
    /// The checked texts and the trained network's logits for each (flattened; for token
    /// classification the rows of the tokens, special tokens included), for tests that compare
    /// them with the reloaded model.
    #[serde(skip)]
    pub check_texts: Vec<String>,
    #[serde(skip)]
    pub check_logits: Vec<Vec<f32>>,
}

/// One tokenized example: ids and the target (a class, or one label per token, `None` for
/// tokens outside the loss).
#[derive(Debug, Clone)]
struct Example {
    text: String,
    ids: Vec<u32>,
    /// Tokens the tokenizer added ([CLS], [SEP]), which dropout leaves alone.
    special: Vec<bool>,
    target: Target,
}

#[derive(Debug, Clone)]
enum Target {
    Class(usize),
    Tokens(Vec<Option<usize>>),
}

enum Network {
    Sequence(ModernBertSequenceClassifier),
    Tokens(ModernBertTokenClassifier),
}

impl Network {
    fn forward(&self, ids: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Network::Sequence(network) => network.forward(ids, mask),
            Network::Tokens(network) => network.forward(ids, mask),
        }
    }
}

/// The BIO labels for entity types: `O`, then `B-X`, `I-X` for each type in order.
pub fn bio_labels(types: &[String]) -> Vec<String> {
    std::iter::once("O".to_string())
        .chain(
            types
                .iter()
                .flat_map(|kind| [format!("B-{kind}"), format!("I-{kind}")]),
        )
        .collect()
}

fn load_examples(
    options: &TrainOptions,
    tokenizer: &TextTokenizer,
) -> Result<(Vec<String>, Vec<Example>), ModelError> {
    match options.task {
        Task::SequenceClassification => {
            let data = dataset::read_labelled(&options.data)?;
            let labels = match &options.labels {
                Some(labels) => labels.clone(),
                None => {
                    let mut labels: Vec<String> =
                        data.iter().map(|example| example.label.clone()).collect();
                    labels.sort();
                    labels.dedup();
                    labels
                }
            };
            let examples = data
                .iter()
                .map(|example| {
                    let wanted = normalise_label(&example.label);
                    let class = labels
                        .iter()
                        .position(|label| normalise_label(label) == wanted)
                        .ok_or_else(|| ModelError::Data {
                            path: options.data.clone(),
                            message: format!(
                                "label `{}` is not one of the model's labels",
                                example.label
                            ),
                        })?;
                    let tokens = tokenizer.tokenize(&example.text)?;
                    Ok(Example {
                        text: example.text.clone(),
                        special: tokens.special,
                        ids: tokens.ids,
                        target: Target::Class(class),
                    })
                })
                .collect::<Result<Vec<_>, ModelError>>()?;
            Ok((labels, examples))
        }
        Task::TokenClassification => {
            let data = dataset::read_spanned(&options.data)?;
            let types = match &options.labels {
                Some(types) => types.clone(),
                None => {
                    let mut types: Vec<String> = data
                        .iter()
                        .flat_map(|example| example.entities.iter().map(|span| span.label.clone()))
                        .collect();
                    types.sort();
                    types.dedup();
                    types
                }
            };
            let labels = bio_labels(&types);
            let examples = data
                .iter()
                .map(|example| {
                    let tokens = tokenizer.tokenize(&example.text)?;
                    let mut previous: Option<usize> = None;
                    let targets = tokens
                        .offsets
                        .iter()
                        .zip(&tokens.special)
                        .map(|(&(start, end), &special)| {
                            if special || start == end {
                                previous = None;
                                return Ok(None);
                            }
                            let found = example
                                .entities
                                .iter()
                                .position(|span| start < span.end && span.start < end);
                            let label = match found {
                                None => 0,
                                Some(index) => {
                                    let span = &example.entities[index];
                                    let kind = types
                                        .iter()
                                        .position(|kind| *kind == span.label)
                                        .ok_or_else(|| ModelError::Data {
                                            path: options.data.clone(),
                                            message: format!(
                                                "entity type `{}` is not one of the model's",
                                                span.label
                                            ),
                                        })?;
                                    let inside = previous == Some(index);
                                    1 + 2 * kind + usize::from(inside)
                                }
                            };
                            previous = found;
                            Ok(Some(label))
                        })
                        .collect::<Result<Vec<_>, ModelError>>()?;
                    Ok(Example {
                        text: example.text.clone(),
                        special: tokens.special,
                        ids: tokens.ids,
                        target: Target::Tokens(targets),
                    })
                })
                .collect::<Result<Vec<_>, ModelError>>()?;
            Ok((labels, examples))
        }
        Task::SentenceEmbedding => Err(ModelError::Training {
            message: "only classifiers can be trained".to_string(),
        }),
    }
}

fn network_config(options: &TrainOptions, vocab_size: usize, pad: u32) -> ModernBertConfig {
    let shape = &options.shape;
    ModernBertConfig {
        vocab_size,
        hidden_size: shape.hidden,
        intermediate_size: shape.intermediate,
        num_attention_heads: shape.heads,
        layer_types: (0..shape.layers)
            .map(|index| {
                if index % shape.global_every.max(1) == 0 {
                    AttentionKind::Global
                } else {
                    AttentionKind::SlidingWindow
                }
            })
            .collect(),
        max_position_embeddings: shape.max_positions,
        local_attention: shape.local_attention,
        global_rope_theta: 160_000.0,
        local_rope_theta: 10_000.0,
        norm_eps: 1e-5,
        norm_bias: false,
        attention_bias: false,
        mlp_bias: false,
        hidden_activation: Activation::Gelu,
        classifier_pooling: options.pooling,
        classifier_bias: false,
        classifier_activation: Activation::Gelu,
        pad_token_id: pad,
    }
}

/// A padded batch: ids, mask, and the targets in the layout the loss needs.
struct Batch {
    ids: Tensor,
    mask: Tensor,
    /// Class per example, or label per token position (0 where ignored).
    targets: Tensor,
    /// Token classification: 1 where a token counts in the loss.
    weights: Option<Tensor>,
}

fn make_batch(examples: &[&Example], pad: u32, device: &Device) -> candle_core::Result<Batch> {
    let width = examples.iter().map(|e| e.ids.len()).max().unwrap_or(0);
    let mut ids = Vec::with_capacity(examples.len() * width);
    let mut mask = Vec::with_capacity(examples.len() * width);
    let mut classes = Vec::new();
    let mut token_targets = Vec::new();
    let mut token_weights = Vec::new();
    for example in examples {
        let padding = width - example.ids.len();
        ids.extend(
            example
                .ids
                .iter()
                .copied()
                .chain(std::iter::repeat_n(pad, padding)),
        );
        mask.extend(
            std::iter::repeat_n(1u32, example.ids.len()).chain(std::iter::repeat_n(0, padding)),
        );
        match &example.target {
            Target::Class(class) => classes.push(*class as u32),
            Target::Tokens(labels) => {
                for position in 0..width {
                    let label = labels.get(position).copied().flatten();
                    token_targets.push(label.unwrap_or(0) as u32);
                    token_weights.push(if label.is_some() { 1f32 } else { 0.0 });
                }
            }
        }
    }
    let shape = (examples.len(), width);
    let (targets, weights) = if token_targets.is_empty() {
        (Tensor::new(classes, device)?, None)
    } else {
        (
            Tensor::from_vec(token_targets, examples.len() * width, device)?,
            Some(Tensor::from_vec(
                token_weights,
                examples.len() * width,
                device,
            )?),
        )
    };
    Ok(Batch {
        ids: Tensor::from_vec(ids, shape, device)?,
        mask: Tensor::from_vec(mask, shape, device)?,
        targets,
        weights,
    })
}

/// The mean cross-entropy of a batch, and how many of its predictions were right (out of how
/// many counted).
fn loss_and_hits(logits: &Tensor, batch: &Batch) -> candle_core::Result<(Tensor, usize, usize)> {
    let labels = logits.dim(D::Minus1)?;
    let flat = logits.reshape(((), labels))?;
    let log_probs = candle_nn::ops::log_softmax(&flat, D::Minus1)?;
    let picked = log_probs
        .gather(&batch.targets.unsqueeze(1)?, 1)?
        .squeeze(1)?;
    let predicted = flat.argmax(D::Minus1)?.to_vec1::<u32>()?;
    let targets = batch.targets.to_vec1::<u32>()?;
    let (loss, counted, hits) = match &batch.weights {
        None => (
            (picked.mean_all()? * -1.0)?,
            targets.len(),
            predicted
                .iter()
                .zip(&targets)
                .filter(|(p, t)| p == t)
                .count(),
        ),
        Some(weights) => {
            let counted_f = weights.sum_all()?.to_scalar::<f32>()?.max(1.0);
            let mask = weights.to_vec1::<f32>()?;
            let hits = predicted
                .iter()
                .zip(&targets)
                .zip(&mask)
                .filter(|((p, t), m)| **m > 0.0 && p == t)
                .count();
            (
                ((picked * weights)?.sum_all()? * (-1.0 / f64::from(counted_f)))?,
                counted_f as usize,
                hits,
            )
        }
    };
    Ok((loss, counted, hits))
}

/// Orders the examples for one epoch: shuffled, then sorted by length within windows of
/// 32 batches (so a batch holds similar lengths and pads little), then the batches shuffled.
fn epoch_batches(examples: &[Example], batch_size: usize, rng: &mut Rng) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..examples.len()).collect();
    rng.shuffle(&mut order);
    let mut batches = Vec::new();
    for window in order.chunks(batch_size * 32) {
        let mut window = window.to_vec();
        window.sort_by_key(|&index| examples[index].ids.len());
        batches.extend(window.chunks(batch_size).map(<[usize]>::to_vec));
    }
    rng.shuffle(&mut batches);
    batches
}

/// Trains a model as `options` say, saves it to `options.out` and checks the saved copy.
/// `progress` receives a line now and then (epoch losses, timing).
pub fn train(
    options: &TrainOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<TrainReport, ModelError> {
    let started = Instant::now();
    let device = Device::Cpu;
    let failed = ModelError::training;
    if options.batch_size == 0 || options.epochs == 0 {
        return Err(ModelError::Training {
            message: "the batch size and the number of epochs must be positive".to_string(),
        });
    }
    let vocab = tokenizers::Tokenizer::from_file(&options.tokenizer).map_err(|error| {
        ModelError::Tokenizer {
            path: options.tokenizer.clone(),
            message: error.to_string(),
        }
    })?;
    let vocab_size = vocab.get_vocab_size(true);
    let pad = vocab.token_to_id("[PAD]").unwrap_or(0);
    let unknown = vocab.token_to_id("[UNK]").unwrap_or(pad);
    let tokenizer = TextTokenizer::from_file(
        &options.tokenizer,
        options.max_length,
        Truncation::Head,
        pad,
    )?;
    let (labels, examples) = load_examples(options, &tokenizer)?;
    progress(&format!(
        "{} examples, {} labels, vocabulary {vocab_size}",
        examples.len(),
        labels.len()
    ));

    let config = network_config(options, vocab_size, pad);
    if !config
        .hidden_size
        .is_multiple_of(config.num_attention_heads)
        || !config.head_dim().is_multiple_of(2)
    {
        return Err(ModelError::Training {
            message: format!(
                "{} heads do not split a hidden size of {} into heads of even width",
                config.num_attention_heads, config.hidden_size
            ),
        });
    }
    let varmap = VarMap::new();
    let builder = VarBuilder::from_varmap(&varmap, DType::F32, &device);
    let kernels = Kernels::Differentiable;
    let network = match options.task {
        Task::TokenClassification => Network::Tokens(
            ModernBertTokenClassifier::load(&config, labels.len(), kernels, builder)
                .map_err(failed)?,
        ),
        _ => Network::Sequence(
            ModernBertSequenceClassifier::load(&config, labels.len(), kernels, builder)
                .map_err(failed)?,
        ),
    };
    let embeddings = match &options.init_embeddings {
        Some(dir) => {
            let projected = init::pca_embeddings(dir, config.hidden_size, options.seed)?;
            let rows = projected.dim(0).map_err(failed)?;
            if rows != vocab_size {
                return Err(ModelError::Training {
                    message: format!(
                        "`{}` has {rows} word embeddings but the tokenizer {vocab_size} tokens",
                        dir.display()
                    ),
                });
            }
            progress(&format!(
                "token embeddings: PCA of `{}` to {} dimensions",
                dir.display(),
                config.hidden_size
            ));
            Some(projected)
        }
        None => None,
    };
    init::initialise(
        &varmap,
        config.num_hidden_layers(),
        options.seed,
        embeddings.as_ref(),
    )?;

    let (trainable, parameters) = {
        let data = varmap.data().lock().map_err(ModelError::training)?;
        let mut names: Vec<&String> = data.keys().collect();
        names.sort();
        let parameters = data.values().map(|var| var.elem_count()).sum::<usize>();
        let trainable: Vec<candle_core::Var> = names
            .into_iter()
            .filter(|name| !(options.freeze_embeddings && *name == init::TOKEN_EMBEDDINGS))
            .map(|name| data[name].clone())
            .collect();
        (trainable, parameters)
    };
    let trainable_parameters = trainable.iter().map(|var| var.elem_count()).sum();
    let mut optimizer = AdamW::new(
        trainable,
        ParamsAdamW {
            lr: options.learning_rate,
            weight_decay: options.weight_decay,
            ..ParamsAdamW::default()
        },
    )
    .map_err(failed)?;

    let mut rng = Rng::new(options.seed ^ 0x5DEE_CE66);
    let steps_per_epoch = examples.len().div_ceil(options.batch_size);
    let total_steps = steps_per_epoch * options.epochs;
    let warmup_steps = ((total_steps as f64) * options.warmup).ceil().max(1.0);
    let mut step = 0usize;
    let mut losses: Vec<f32> = Vec::with_capacity(total_steps);
    let mut epoch_losses = Vec::new();
    let mut last_epoch_accuracy = 0.0;
    for epoch in 0..options.epochs {
        let (mut hits, mut counted, mut epoch_loss) = (0usize, 0usize, 0f64);
        let batches = epoch_batches(&examples, options.batch_size, &mut rng);
        for indices in &batches {
            let dropped: Vec<Example>;
            let members: Vec<&Example> = if options.token_dropout > 0.0 {
                dropped = indices
                    .iter()
                    .map(|&i| {
                        let mut example = examples[i].clone();
                        for (id, special) in example.ids.iter_mut().zip(&example.special) {
                            if !special && rng.uniform() < options.token_dropout {
                                *id = unknown;
                            }
                        }
                        example
                    })
                    .collect();
                dropped.iter().collect()
            } else {
                indices.iter().map(|&i| &examples[i]).collect()
            };
            let batch = make_batch(&members, pad, &device).map_err(failed)?;
            let logits = network.forward(&batch.ids, &batch.mask).map_err(failed)?;
            let (loss, batch_counted, batch_hits) =
                loss_and_hits(&logits, &batch).map_err(failed)?;
            let rate = if (step as f64) < warmup_steps {
                options.learning_rate * (step + 1) as f64 / warmup_steps
            } else {
                options.learning_rate * (total_steps - step) as f64
                    / (total_steps as f64 - warmup_steps).max(1.0)
            };
            optimizer.set_learning_rate(rate);
            optimizer.backward_step(&loss).map_err(failed)?;
            let loss = loss.to_scalar::<f32>().map_err(failed)?;
            losses.push(loss);
            epoch_loss += f64::from(loss);
            hits += batch_hits;
            counted += batch_counted;
            step += 1;
        }
        let mean = (epoch_loss / batches.len() as f64) as f32;
        last_epoch_accuracy = hits as f32 / counted.max(1) as f32;
        epoch_losses.push(mean);
        progress(&format!(
            "epoch {}/{}: loss {mean:.4}, training accuracy {:.4}, {:.0} s",
            epoch + 1,
            options.epochs,
            last_epoch_accuracy,
            started.elapsed().as_secs_f64()
        ));
    }

    std::fs::create_dir_all(&options.out).map_err(|error| ModelError::Training {
        message: format!("cannot create `{}`: {error}", options.out.display()),
    })?;
    let weights_path = options.out.join("model.safetensors");
    save::save_weights(&varmap, &weights_path)?;
    save::write_json(
        &options.out.join("config.json"),
        &save::config_json(&config, options.task, &labels),
    )?;
    save::save_tokenizer(&options.tokenizer, &options.out.join("tokenizer.json"))?;

    // The saved directory must compute what the (f16-rounded) network in memory computes.
    let reloaded = Model::load(&options.out, &LoadOptions::default())?;
    let checked: Vec<&Example> = examples
        .iter()
        .step_by((examples.len() / 32).max(1))
        .collect();
    let mut reload_max_difference = 0f32;
    let mut check_logits = Vec::with_capacity(checked.len());
    for chunk in checked.chunks(8) {
        let batch = make_batch(chunk, pad, &device).map_err(failed)?;
        let ours = network.forward(&batch.ids, &batch.mask).map_err(failed)?;
        for (row, example) in chunk.iter().enumerate() {
            let logits = ours
                .get(row)
                .and_then(|logits| match options.task {
                    Task::TokenClassification => logits.narrow(0, 0, example.ids.len()),
                    _ => Ok(logits),
                })
                .and_then(|logits| logits.flatten_all())
                .and_then(|logits| logits.to_vec1::<f32>())
                .map_err(failed)?;
            check_logits.push(logits);
        }
        let theirs = reloaded.forward_ids(&batch.ids, &batch.mask)?;
        let difference = (ours - theirs)
            .and_then(|d| d.abs())
            .and_then(|d| d.broadcast_mul(&mask_like(&batch, options.task)?))
            .and_then(|d| d.max_all())
            .and_then(|d| d.to_scalar::<f32>())
            .map_err(failed)?;
        reload_max_difference = reload_max_difference.max(difference);
    }
    const RELOAD_TOLERANCE: f32 = 1e-3;
    if reload_max_difference > RELOAD_TOLERANCE {
        return Err(ModelError::Training {
            message: format!(
                "the saved model's logits differ from the trained network's by {reload_max_difference}"
            ),
        });
    }

    let tenth = (losses.len() / 10).max(1);
    let mean = |values: &[f32]| values.iter().sum::<f32>() / values.len().max(1) as f32;
    let report = TrainReport {
        out: options.out.clone(),
        labels,
        examples: examples.len(),
        steps: total_steps,
        parameters,
        trainable_parameters,
        weights_bytes: std::fs::metadata(&weights_path).map_or(0, |m| m.len()),
        first_loss: mean(&losses[..tenth.min(losses.len())]),
        last_loss: mean(&losses[losses.len().saturating_sub(tenth)..]),
        epoch_losses,
        last_epoch_accuracy,
        seconds: started.elapsed().as_secs_f64(),
        reload_max_difference,
        reload_checked: checked.len(),
        check_texts: checked.iter().map(|example| example.text.clone()).collect(),
        check_logits,
    };
    let record = serde_json::json!({
        "options": options,
        "report": report,
        "data_sha256": sha256_hex(&options.data)?,
    });
    save::write_json(&options.out.join("training.json"), &record)?;
    Ok(report)
}

/// Padding positions' logits are meaningless (and differ between kernels); compare real ones.
fn mask_like(batch: &Batch, task: Task) -> candle_core::Result<Tensor> {
    match task {
        Task::TokenClassification => batch.mask.to_dtype(DType::F32)?.unsqueeze(2),
        _ => Tensor::ones((1, 1), DType::F32, batch.mask.device()),
    }
}

/// The sha256 of a file as hex, for training.json.
fn sha256_hex(path: &Path) -> Result<String, ModelError> {
    let bytes = std::fs::read(path).map_err(|error| ModelError::Read {
        path: path.to_path_buf(),
        message: error.to_string().to_lowercase(),
    })?;
    use sha2::Digest;
    Ok(sha2::Sha256::digest(&bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect())
}
