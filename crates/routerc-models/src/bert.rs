//! The BERT encoder used for sentence embeddings (all-MiniLM-L6-v2 and its kind).
//!
//! Word + position + token-type embeddings → layer norm → N × (post-norm self-attention,
//! post-norm MLP). A sentence embedding is the mean of the final hidden states over the
//! attention mask, scaled to unit length: what sentence-transformers computes for MiniLM.
//!
//! This module does not read files or tokenize, and it ignores the pooler and any
//! masked-language-model head a checkpoint may carry. Where the tensors live (at the top level
//! or under `bert.`) is decided by the loader, which hands over a `VarBuilder` already pointing
//! at the encoder.

use candle_core::{Module, Result, Tensor};
use candle_nn::{Embedding, Init, VarBuilder};

use crate::blocks::{l2_normalise, masked_mean, padding_bias, Activation, Dense, Kernels, Norm};

/// The shape and hyper-parameters of a BERT encoder.
#[derive(Debug, Clone, PartialEq)]
pub struct BertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub hidden_act: Activation,
    pub max_position_embeddings: usize,
    pub type_vocab_size: usize,
    pub layer_norm_eps: f64,
    pub pad_token_id: u32,
}

#[derive(Debug, Clone)]
struct Layer {
    query: Dense,
    key: Dense,
    value: Dense,
    attention_output: Dense,
    attention_norm: Norm,
    intermediate: Dense,
    output: Dense,
    output_norm: Norm,
}

/// A BERT encoder: ids to final hidden states, or straight to sentence embeddings.
#[derive(Debug, Clone)]
pub struct Bert {
    word_embeddings: Embedding,
    position_embeddings: Tensor,
    token_type_embeddings: Embedding,
    embedding_norm: Norm,
    layers: Vec<Layer>,
    heads: usize,
    activation: Activation,
}

impl Bert {
    /// Builds the encoder from `embeddings.*` and `encoder.layer.N.*` under `vb`.
    pub fn load(config: &BertConfig, kernels: Kernels, vb: VarBuilder) -> Result<Self> {
        let hidden = config.hidden_size;
        let eps = config.layer_norm_eps;
        let init = Init::Randn {
            mean: 0.0,
            stdev: 0.02,
        };
        let embeddings = vb.pp("embeddings");
        let word = embeddings.get_with_hints(
            (config.vocab_size, hidden),
            "word_embeddings.weight",
            init,
        )?;
        let position = embeddings.get_with_hints(
            (config.max_position_embeddings, hidden),
            "position_embeddings.weight",
            init,
        )?;
        let token_type = embeddings.get_with_hints(
            (config.type_vocab_size, hidden),
            "token_type_embeddings.weight",
            init,
        )?;
        let embedding_norm = Norm::load(hidden, eps, true, kernels, embeddings.pp("LayerNorm"))?;
        let layers = (0..config.num_hidden_layers)
            .map(|index| {
                let vb = vb.pp(format!("encoder.layer.{index}"));
                let attention = vb.pp("attention");
                let inter = config.intermediate_size;
                Ok(Layer {
                    query: Dense::load(hidden, hidden, true, attention.pp("self.query"))?,
                    key: Dense::load(hidden, hidden, true, attention.pp("self.key"))?,
                    value: Dense::load(hidden, hidden, true, attention.pp("self.value"))?,
                    attention_output: Dense::load(
                        hidden,
                        hidden,
                        true,
                        attention.pp("output.dense"),
                    )?,
                    attention_norm: Norm::load(
                        hidden,
                        eps,
                        true,
                        kernels,
                        attention.pp("output.LayerNorm"),
                    )?,
                    intermediate: Dense::load(hidden, inter, true, vb.pp("intermediate.dense"))?,
                    output: Dense::load(inter, hidden, true, vb.pp("output.dense"))?,
                    output_norm: Norm::load(hidden, eps, true, kernels, vb.pp("output.LayerNorm"))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            word_embeddings: Embedding::new(word, hidden),
            position_embeddings: position,
            token_type_embeddings: Embedding::new(token_type, hidden),
            embedding_norm,
            layers,
            heads: config.num_attention_heads,
            activation: config.hidden_act,
        })
    }

    /// `(batch, seq)` u32 ids, token types and 0/1 mask → `(batch, seq, hidden)` f32.
    pub fn forward(
        &self,
        input_ids: &Tensor,
        token_type_ids: &Tensor,
        attention_mask: &Tensor,
    ) -> Result<Tensor> {
        let (batch, seq) = input_ids.dims2()?;
        let positions = self.position_embeddings.narrow(0, 0, seq)?.unsqueeze(0)?;
        let embedded = self
            .word_embeddings
            .forward(input_ids)?
            .broadcast_add(&positions)?
            .add(&self.token_type_embeddings.forward(token_type_ids)?)?;
        let mut hidden = self.embedding_norm.forward(&embedded)?;
        let bias = padding_bias(attention_mask)?;
        let (_, _, width) = hidden.dims3()?;
        let head_dim = width / self.heads;
        let scale = 1.0 / (head_dim as f64).sqrt();
        let split_heads = |xs: Tensor| -> Result<Tensor> {
            xs.reshape((batch, seq, self.heads, head_dim))?
                .transpose(1, 2)?
                .contiguous()
        };
        for layer in &self.layers {
            let query = split_heads(layer.query.forward(&hidden)?)?;
            let key = split_heads(layer.key.forward(&hidden)?)?;
            let value = split_heads(layer.value.forward(&hidden)?)?;
            let scores = (query.matmul(&key.t()?)? * scale)?.broadcast_add(&bias)?;
            let weights = candle_nn::ops::softmax_last_dim(&scores)?;
            let context = weights
                .matmul(&value)?
                .transpose(1, 2)?
                .reshape((batch, seq, width))?;
            let attended = layer
                .attention_norm
                .forward(&(layer.attention_output.forward(&context)? + &hidden)?)?;
            let inner = self
                .activation
                .apply(&layer.intermediate.forward(&attended)?)?;
            hidden = layer
                .output_norm
                .forward(&(layer.output.forward(&inner)? + &attended)?)?;
        }
        Ok(hidden)
    }

    /// Mean-pooled, L2-normalised sentence embeddings: `(batch, hidden)`.
    pub fn embed(
        &self,
        input_ids: &Tensor,
        token_type_ids: &Tensor,
        attention_mask: &Tensor,
    ) -> Result<Tensor> {
        let hidden = self.forward(input_ids, token_type_ids, attention_mask)?;
        l2_normalise(&masked_mean(&hidden, attention_mask)?)
    }
}
