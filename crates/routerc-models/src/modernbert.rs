//! The ModernBERT encoder (also mmBERT, which is the same network with a larger vocabulary)
//! and its two classification heads, written with candle tensor operations.
//!
//! What it computes, layer by layer, is what Hugging Face transformers computes:
//! token embeddings → layer norm → N × (pre-norm attention with rotary embeddings, global or
//! sliding-window; pre-norm GeGLU MLP) → final norm; then, for classification, pooling (`cls`
//! or `mean`) → dense → activation → norm → linear classifier; for token classification the
//! same head applied to every position.
//!
//! Sliding-window layers let position `i` attend to `j` only when `|i - j| <= local_attention
//! / 2`, the rule transformers applies. The rotary tables and the window are built once per
//! model or per call, never per layer.
//!
//! This module does not read files: [`crate::config`] turns config.json into
//! [`ModernBertConfig`] and the caller supplies a `VarBuilder` (weights from a checkpoint, or a
//! `VarMap` when training). It does not tokenize either.

use candle_core::{DType, Device, Module, Result, Tensor, D};
use candle_nn::{Embedding, Init, VarBuilder};

use crate::blocks::{
    attention_softmax, cpu_f32, masked_mean, padding_bias, Activation, Dense, Kernels, Norm, MASKED,
};
use crate::kernels::{self, AttentionShape, RotaryTables};

/// Whether a layer attends to the whole sequence or to a window around each position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttentionKind {
    Global,
    SlidingWindow,
}

/// How the classification head reduces the sequence to one vector (`classifier_pooling`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// The hidden state of the first token.
    Cls,
    /// The mean of the hidden states of the non-padding tokens.
    Mean,
}

/// The shape and hyper-parameters of a ModernBERT network, independent of the config-file
/// style it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct ModernBertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_attention_heads: usize,
    /// One entry per layer.
    pub layer_types: Vec<AttentionKind>,
    pub max_position_embeddings: usize,
    /// The full width of the sliding window; a position sees `local_attention / 2` on each side.
    pub local_attention: usize,
    pub global_rope_theta: f64,
    pub local_rope_theta: f64,
    pub norm_eps: f64,
    pub norm_bias: bool,
    pub attention_bias: bool,
    pub mlp_bias: bool,
    pub hidden_activation: Activation,
    pub classifier_pooling: Pooling,
    pub classifier_bias: bool,
    pub classifier_activation: Activation,
    pub pad_token_id: u32,
}

impl ModernBertConfig {
    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }

    pub fn num_hidden_layers(&self) -> usize {
        self.layer_types.len()
    }
}

/// Rotary position embeddings for one base frequency: cos and sin tables of shape
/// `(max_positions, head_dim / 2)`.
#[derive(Debug, Clone)]
struct Rope {
    cos: Tensor,
    sin: Tensor,
    /// The same tables as plain vectors, read by the fused attention kernel.
    cos_values: Vec<f32>,
    sin_values: Vec<f32>,
}

impl Rope {
    fn new(theta: f64, head_dim: usize, max_positions: usize, device: &Device) -> Result<Self> {
        // Mirror transformers' float32 arithmetic (inverse frequencies and position products
        // rounded to f32) so angles at long positions match it to the last bit that matters.
        let half = head_dim / 2;
        let inv_freq: Vec<f32> = (0..half)
            .map(|i| 1.0 / (theta as f32).powf((2 * i) as f32 / head_dim as f32))
            .collect();
        let mut cos = Vec::with_capacity(max_positions * half);
        let mut sin = Vec::with_capacity(max_positions * half);
        for position in 0..max_positions {
            for freq in &inv_freq {
                let angle = f64::from(position as f32 * freq);
                cos.push(angle.cos() as f32);
                sin.push(angle.sin() as f32);
            }
        }
        Ok(Self {
            cos: Tensor::from_slice(&cos, (max_positions, half), device)?,
            sin: Tensor::from_slice(&sin, (max_positions, half), device)?,
            cos_values: cos,
            sin_values: sin,
        })
    }

    fn tables(&self) -> RotaryTables<'_> {
        RotaryTables {
            cos: &self.cos_values,
            sin: &self.sin_values,
        }
    }

    /// Rotates `(batch, heads, seq, head_dim)` queries or keys by their positions.
    fn apply(&self, xs: &Tensor, kernels: Kernels) -> Result<Tensor> {
        let seq = xs.dim(2)?;
        let cos = self.cos.narrow(0, 0, seq)?;
        let sin = self.sin.narrow(0, 0, seq)?;
        match kernels {
            Kernels::Fused => candle_nn::rotary_emb::rope(&xs.contiguous()?, &cos, &sin),
            Kernels::Differentiable => candle_nn::rotary_emb::rope_slow(xs, &cos, &sin),
        }
    }
}

/// What one forward pass tells every layer about padding and the window, built once.
enum Masks {
    /// The plain-tensor path: additive biases.
    Biases(AttentionBias),
    /// The fused kernel: which positions are real tokens, `batch × seq`.
    Keep(Vec<bool>),
}

/// The additive masks of the plain-tensor path.
struct AttentionBias {
    /// `(batch, 1, 1, seq)`, or `None` when nothing is padded.
    global: Option<Tensor>,
    /// `(batch or 1, 1, seq, seq)`, or `None` when the window covers the whole sequence.
    sliding: Option<Tensor>,
}

impl AttentionBias {
    fn new(attention_mask: &Tensor, half_window: usize, needs_sliding: bool) -> Result<Self> {
        let (_, seq) = attention_mask.dims2()?;
        let padded = attention_mask
            .to_dtype(DType::F32)?
            .min_all()?
            .to_scalar::<f32>()?
            < 1.0;
        let global = if padded {
            Some(padding_bias(attention_mask)?)
        } else {
            None
        };
        let sliding = if needs_sliding && seq > half_window + 1 {
            let window: Vec<f32> = (0..seq)
                .flat_map(|i| {
                    (0..seq).map(move |j| {
                        if i.abs_diff(j) <= half_window {
                            0.0
                        } else {
                            MASKED
                        }
                    })
                })
                .collect();
            let window = Tensor::from_vec(window, (1, 1, seq, seq), attention_mask.device())?;
            Some(match &global {
                Some(global) => window.broadcast_add(global)?,
                None => window,
            })
        } else {
            global.clone()
        };
        Ok(Self { global, sliding })
    }
}

#[derive(Debug, Clone)]
struct Attention {
    wqkv: Dense,
    wo: Dense,
    heads: usize,
    head_dim: usize,
    kind: AttentionKind,
}

impl Attention {
    fn load(config: &ModernBertConfig, kind: AttentionKind, vb: VarBuilder) -> Result<Self> {
        let hidden = config.hidden_size;
        Ok(Self {
            wqkv: Dense::load(hidden, 3 * hidden, config.attention_bias, vb.pp("Wqkv"))?,
            wo: Dense::load(hidden, hidden, config.attention_bias, vb.pp("Wo"))?,
            heads: config.num_attention_heads,
            head_dim: config.head_dim(),
            kind,
        })
    }

    /// The fused path: one kernel from the `Wqkv` output to the context.
    fn forward_fused(
        &self,
        xs: &Tensor,
        rope: &Rope,
        keep: &[bool],
        half_window: Option<usize>,
    ) -> Result<Tensor> {
        let (batch, seq, hidden) = xs.dims3()?;
        if seq > rope.cos_values.len() / (self.head_dim / 2).max(1) {
            candle_core::bail!("sequence of {seq} tokens is longer than the rotary tables")
        }
        let qkv = self.wqkv.forward(xs)?.contiguous()?;
        let shape = AttentionShape {
            batch,
            seq,
            heads: self.heads,
            head_dim: self.head_dim,
        };
        let threads = crate::threads::inference_threads();
        let context = cpu_f32(&qkv, |qkv| {
            kernels::attention(qkv, keep, rope.tables(), shape, half_window, threads)
        })?;
        let context = Tensor::from_vec(context, (batch, seq, hidden), xs.device())?;
        self.wo.forward(&context)
    }

    fn forward(
        &self,
        xs: &Tensor,
        rope: &Rope,
        bias: Option<&Tensor>,
        kernels: Kernels,
    ) -> Result<Tensor> {
        let (batch, seq, hidden) = xs.dims3()?;
        let qkv = self
            .wqkv
            .forward(xs)?
            .reshape((batch, seq, 3, self.heads, self.head_dim))?
            .permute((2, 0, 3, 1, 4))?;
        let query = rope.apply(&qkv.get(0)?, kernels)?;
        let key = rope.apply(&qkv.get(1)?, kernels)?;
        let value = qkv.get(2)?.contiguous()?;

        let scale = 1.0 / (self.head_dim as f64).sqrt();
        let scores = (query.matmul(&key.t()?)? * scale)?;
        let scores = match bias {
            Some(bias) => scores.broadcast_add(bias)?,
            None => scores,
        };
        let weights = attention_softmax(&scores, kernels)?;
        let context = weights
            .matmul(&value)?
            .transpose(1, 2)?
            .reshape((batch, seq, hidden))?;
        self.wo.forward(&context)
    }
}

/// The gated MLP: `Wo(act(input) * gate)` where `Wi` produces `input` and `gate` side by side.
#[derive(Debug, Clone)]
struct GatedMlp {
    wi: Dense,
    wo: Dense,
    activation: Activation,
    intermediate: usize,
}

impl GatedMlp {
    fn load(config: &ModernBertConfig, vb: VarBuilder) -> Result<Self> {
        let (hidden, intermediate) = (config.hidden_size, config.intermediate_size);
        Ok(Self {
            wi: Dense::load(hidden, 2 * intermediate, config.mlp_bias, vb.pp("Wi"))?,
            wo: Dense::load(intermediate, hidden, config.mlp_bias, vb.pp("Wo"))?,
            activation: config.hidden_activation,
            intermediate,
        })
    }
}

impl GatedMlp {
    /// The fused path: the gate and activation in one pass over the `Wi` output.
    fn forward_fused(&self, xs: &Tensor) -> Result<Tensor> {
        let both = self.wi.forward(xs)?.contiguous()?;
        let mut dims = both.dims().to_vec();
        if let Some(last) = dims.last_mut() {
            *last = self.intermediate;
        }
        let gated = cpu_f32(&both, |both| {
            kernels::gated_activation(both, self.intermediate, self.activation)
        })?;
        self.wo
            .forward(&Tensor::from_vec(gated, dims, xs.device())?)
    }
}

impl Module for GatedMlp {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let both = self.wi.forward(xs)?;
        let input = both.narrow(D::Minus1, 0, self.intermediate)?;
        let gate = both.narrow(D::Minus1, self.intermediate, self.intermediate)?;
        self.wo.forward(&(self.activation.apply(&input)? * gate)?)
    }
}

#[derive(Debug, Clone)]
struct Layer {
    /// Absent in layer 0, whose input is already normalised by the embeddings.
    attn_norm: Option<Norm>,
    attn: Attention,
    mlp_norm: Norm,
    mlp: GatedMlp,
}

/// The ModernBERT backbone: input ids to final hidden states.
#[derive(Debug, Clone)]
pub struct ModernBert {
    embeddings: Embedding,
    embedding_norm: Norm,
    layers: Vec<Layer>,
    final_norm: Norm,
    global_rope: Rope,
    local_rope: Rope,
    half_window: usize,
    kernels: Kernels,
}

impl ModernBert {
    /// Builds the backbone from the tensors under `vb` (`model.` in a checkpoint).
    pub fn load(config: &ModernBertConfig, kernels: Kernels, vb: VarBuilder) -> Result<Self> {
        let (hidden, eps, norm_bias) = (config.hidden_size, config.norm_eps, config.norm_bias);
        let embeddings = vb.pp("embeddings").get_with_hints(
            (config.vocab_size, hidden),
            "tok_embeddings.weight",
            Init::Randn {
                mean: 0.0,
                stdev: 0.02,
            },
        )?;
        let embedding_norm = Norm::load(hidden, eps, norm_bias, kernels, vb.pp("embeddings.norm"))?;
        let layers = config
            .layer_types
            .iter()
            .enumerate()
            .map(|(index, kind)| {
                let vb = vb.pp(format!("layers.{index}"));
                Ok(Layer {
                    attn_norm: if index == 0 {
                        None
                    } else {
                        Some(Norm::load(
                            hidden,
                            eps,
                            norm_bias,
                            kernels,
                            vb.pp("attn_norm"),
                        )?)
                    },
                    attn: Attention::load(config, *kind, vb.pp("attn"))?,
                    mlp_norm: Norm::load(hidden, eps, norm_bias, kernels, vb.pp("mlp_norm"))?,
                    mlp: GatedMlp::load(config, vb.pp("mlp"))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let final_norm = Norm::load(hidden, eps, norm_bias, kernels, vb.pp("final_norm"))?;
        let device = vb.device();
        let positions = config.max_position_embeddings;
        Ok(Self {
            embeddings: Embedding::new(embeddings, hidden),
            embedding_norm,
            layers,
            final_norm,
            global_rope: Rope::new(
                config.global_rope_theta,
                config.head_dim(),
                positions,
                device,
            )?,
            local_rope: Rope::new(
                config.local_rope_theta,
                config.head_dim(),
                positions,
                device,
            )?,
            half_window: config.local_attention / 2,
            kernels,
        })
    }

    /// `(batch, seq)` u32 ids and a `(batch, seq)` 0/1 mask → `(batch, seq, hidden)` f32.
    pub fn forward(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Result<Tensor> {
        let embedded = self.embeddings.forward(input_ids)?;
        // The fused kernels run on f32 CPU tensors; anything else takes the plain path.
        let fused = self.kernels == Kernels::Fused
            && embedded.dtype() == DType::F32
            && embedded.device().is_cpu();
        let masks = if fused {
            let keep = attention_mask
                .to_dtype(DType::F32)?
                .flatten_all()?
                .to_vec1::<f32>()?
                .into_iter()
                .map(|value| value > 0.5)
                .collect();
            Masks::Keep(keep)
        } else {
            let needs_sliding = self
                .layers
                .iter()
                .any(|layer| layer.attn.kind == AttentionKind::SlidingWindow);
            Masks::Biases(AttentionBias::new(
                attention_mask,
                self.half_window,
                needs_sliding,
            )?)
        };
        let mut hidden = self.embedding_norm.forward(&embedded)?;
        for layer in &self.layers {
            let (rope, half_window) = match layer.attn.kind {
                AttentionKind::Global => (&self.global_rope, None),
                AttentionKind::SlidingWindow => (&self.local_rope, Some(self.half_window)),
            };
            let normed = match &layer.attn_norm {
                Some(norm) => norm.forward(&hidden)?,
                None => hidden.clone(),
            };
            let attended = match &masks {
                Masks::Keep(keep) => layer.attn.forward_fused(&normed, rope, keep, half_window)?,
                Masks::Biases(bias) => {
                    let bias = match half_window {
                        None => bias.global.as_ref(),
                        Some(_) => bias.sliding.as_ref(),
                    };
                    layer.attn.forward(&normed, rope, bias, self.kernels)?
                }
            };
            hidden = (&hidden + attended)?;
            let normed = layer.mlp_norm.forward(&hidden)?;
            let mlp = match &masks {
                Masks::Keep(_) => layer.mlp.forward_fused(&normed)?,
                Masks::Biases(_) => layer.mlp.forward(&normed)?,
            };
            hidden = (&hidden + mlp)?;
        }
        self.final_norm.forward(&hidden)
    }
}

/// The prediction head of the classifiers: dense → activation → norm, then the classifier.
#[derive(Debug, Clone)]
struct ClassifierHead {
    dense: Dense,
    activation: Activation,
    norm: Norm,
    classifier: Dense,
}

impl ClassifierHead {
    fn load(
        config: &ModernBertConfig,
        labels: usize,
        kernels: Kernels,
        vb: &VarBuilder,
    ) -> Result<Self> {
        let hidden = config.hidden_size;
        Ok(Self {
            dense: Dense::load(hidden, hidden, config.classifier_bias, vb.pp("head.dense"))?,
            activation: config.classifier_activation,
            norm: Norm::load(
                hidden,
                config.norm_eps,
                config.norm_bias,
                kernels,
                vb.pp("head.norm"),
            )?,
            // transformers always gives the final classifier a bias, whatever the config says.
            classifier: Dense::load(hidden, labels, true, vb.pp("classifier"))?,
        })
    }
}

impl Module for ClassifierHead {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let xs = self.activation.apply(&self.dense.forward(xs)?)?;
        self.classifier.forward(&self.norm.forward(&xs)?)
    }
}

/// `ModernBertForSequenceClassification`: one logit vector per text.
#[derive(Debug, Clone)]
pub struct ModernBertSequenceClassifier {
    backbone: ModernBert,
    head: ClassifierHead,
    pooling: Pooling,
}

impl ModernBertSequenceClassifier {
    /// Expects the checkpoint layout: `model.*`, `head.*`, `classifier.*`.
    pub fn load(
        config: &ModernBertConfig,
        labels: usize,
        kernels: Kernels,
        vb: VarBuilder,
    ) -> Result<Self> {
        Ok(Self {
            backbone: ModernBert::load(config, kernels, vb.pp("model"))?,
            head: ClassifierHead::load(config, labels, kernels, &vb)?,
            pooling: config.classifier_pooling,
        })
    }

    /// `(batch, seq)` ids and mask → `(batch, labels)` logits.
    pub fn forward(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Result<Tensor> {
        let hidden = self.backbone.forward(input_ids, attention_mask)?;
        let pooled = match self.pooling {
            Pooling::Cls => hidden.narrow(1, 0, 1)?.squeeze(1)?,
            Pooling::Mean => masked_mean(&hidden, attention_mask)?,
        };
        self.head.forward(&pooled)
    }
}

/// `ModernBertForTokenClassification`: one logit vector per token.
#[derive(Debug, Clone)]
pub struct ModernBertTokenClassifier {
    backbone: ModernBert,
    head: ClassifierHead,
}

impl ModernBertTokenClassifier {
    /// Expects the checkpoint layout: `model.*`, `head.*`, `classifier.*`.
    pub fn load(
        config: &ModernBertConfig,
        labels: usize,
        kernels: Kernels,
        vb: VarBuilder,
    ) -> Result<Self> {
        Ok(Self {
            backbone: ModernBert::load(config, kernels, vb.pp("model"))?,
            head: ClassifierHead::load(config, labels, kernels, &vb)?,
        })
    }

    /// `(batch, seq)` ids and mask → `(batch, seq, labels)` logits.
    pub fn forward(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Result<Tensor> {
        let hidden = self.backbone.forward(input_ids, attention_mask)?;
        self.head.forward(&hidden)
    }
}
