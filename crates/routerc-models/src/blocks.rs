//! Building blocks shared by the encoders: layer norm, activations, linear layers with optional
//! bias, attention masks and masked mean pooling.
//!
//! Each block comes in the two flavours selected by [`Kernels`]: fused single-pass CPU code for
//! inference, or a composition of plain tensor operations that candle's autograd can
//! differentiate, for training. Both compute the same function; tests check they agree.
//!
//! This module knows nothing about config files or checkpoints: callers pass sizes and a
//! `VarBuilder`, so the same blocks serve a checkpoint on disk and freshly initialised weights.

use candle_core::{CpuStorage, CustomOp3, DType, Layout, Module, Result, Shape, Tensor, D};
use candle_nn::{Init, VarBuilder};

/// How the encoders compute rotary embeddings, attention softmax and layer norm.
///
/// candle's fused rotary-embedding and softmax ops have no backward pass, and its fused layer
/// norm computes the variance as `E[x²] - E[x]²` in f32, which loses precision on the large
/// activations of real checkpoints. We therefore use our own fused layer norm for inference and plain tensor
/// operations (which autograd understands) for training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kernels {
    /// Single-pass operations without a backward pass: the fastest choice for inference.
    #[default]
    Fused,
    /// Plain tensor operations that candle can differentiate: needed to train.
    Differentiable,
}

/// The attention weights from the scores: softmax over the last dimension.
///
/// candle's fused `softmax_last_dim` has no backward pass either: through it, the queries and
/// keys would get no gradient and attention would never learn. Training composes the softmax
/// from plain operations instead.
pub(crate) fn attention_softmax(scores: &Tensor, kernels: Kernels) -> Result<Tensor> {
    match kernels {
        Kernels::Fused => candle_nn::ops::softmax_last_dim(scores),
        Kernels::Differentiable => candle_nn::ops::softmax(scores, D::Minus1),
    }
}

/// The additive bias that removes a key from attention.
///
/// Finite on purpose: a query row whose keys are all masked (a padding position outside every
/// window) then gets a uniform distribution instead of NaN, and NaN would leak into real rows
/// through `0 * NaN` in the next matmul.
pub(crate) const MASKED: f32 = -1.0e30;

/// Non-linearities named by `hidden_act`, `hidden_activation` and `classifier_activation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// `gelu`: the exact, erf-based GELU.
    Gelu,
    /// `gelu_new`, `gelu_pytorch_tanh`, `gelu_fast`: the tanh approximation.
    GeluTanh,
    Relu,
    /// `silu` or `swish`.
    Silu,
}

impl Activation {
    /// Parses the name transformers uses; `None` when we do not implement it.
    pub fn from_config_name(name: &str) -> Option<Self> {
        match name {
            "gelu" => Some(Activation::Gelu),
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Some(Activation::GeluTanh),
            "relu" => Some(Activation::Relu),
            "silu" | "swish" => Some(Activation::Silu),
            _ => None,
        }
    }

    pub fn apply(self, xs: &Tensor) -> Result<Tensor> {
        match self {
            Activation::Gelu => xs.gelu_erf(),
            Activation::GeluTanh => xs.gelu(),
            Activation::Relu => xs.relu(),
            Activation::Silu => xs.silu(),
        }
    }
}

/// A dense layer `x W^T + b` whose bias is optional, as every `*_bias` config flag allows.
#[derive(Debug, Clone)]
pub struct Dense {
    weight: Tensor,
    bias: Option<Tensor>,
}

impl Dense {
    pub fn load(inputs: usize, outputs: usize, bias: bool, vb: VarBuilder) -> Result<Self> {
        let bound = 1.0 / (inputs as f64).sqrt();
        let weight = vb.get_with_hints(
            (outputs, inputs),
            "weight",
            Init::Uniform {
                lo: -bound,
                up: bound,
            },
        )?;
        let bias = if bias {
            Some(vb.get_with_hints(outputs, "bias", Init::Const(0.0))?)
        } else {
            None
        };
        Ok(Self { weight, bias })
    }

    pub fn outputs(&self) -> usize {
        self.weight.dims()[0]
    }
}

impl Module for Dense {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        // A rank-2 weight against a rank-3 input: fold the batch into the rows so that gemm
        // sees one large matrix product instead of a batched one with a broadcast weight.
        let ys = match xs.dims() {
            [batch, seq, hidden] => xs
                .reshape((batch * seq, *hidden))?
                .matmul(&self.weight.t()?)?
                .reshape((*batch, *seq, self.outputs()))?,
            _ => xs.matmul(&self.weight.t()?)?,
        };
        match &self.bias {
            Some(bias) => ys.broadcast_add(bias),
            None => Ok(ys),
        }
    }
}

/// Layer normalisation over the last dimension, with an optional bias (`norm_bias`).
#[derive(Debug, Clone)]
pub struct Norm {
    weight: Tensor,
    bias: Option<Tensor>,
    eps: f32,
    kernels: Kernels,
}

impl Norm {
    /// Loads `weight` (and `bias` when `bias` is set) under `vb`.
    ///
    /// Pre-2019 BERT checkpoints call the two tensors `gamma` and `beta`; they are accepted too.
    pub fn load(
        size: usize,
        eps: f64,
        bias: bool,
        kernels: Kernels,
        vb: VarBuilder,
    ) -> Result<Self> {
        let (weight_name, bias_name) =
            if !vb.contains_tensor("weight") && vb.contains_tensor("gamma") {
                ("gamma", "beta")
            } else {
                ("weight", "bias")
            };
        let weight = vb.get_with_hints(size, weight_name, Init::Const(1.0))?;
        let bias = if bias {
            Some(vb.get_with_hints(size, bias_name, Init::Const(0.0))?)
        } else {
            None
        };
        Ok(Self {
            weight,
            bias,
            eps: eps as f32,
            kernels,
        })
    }
}

impl Module for Norm {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        match self.kernels {
            Kernels::Fused if xs.dtype() == DType::F32 => {
                let xs = xs.contiguous()?;
                let normed = xs.apply_op3_no_bwd(
                    &self.weight,
                    self.bias.as_ref().unwrap_or(&self.weight),
                    &FusedLayerNorm {
                        eps: self.eps,
                        with_bias: self.bias.is_some(),
                    },
                )?;
                Ok(normed)
            }
            _ => {
                let hidden = xs.dim(D::Minus1)? as f64;
                let mean = (xs.sum_keepdim(D::Minus1)? / hidden)?;
                let centred = xs.broadcast_sub(&mean)?;
                let variance = (centred.sqr()?.sum_keepdim(D::Minus1)? / hidden)?;
                let normed = centred.broadcast_div(&(variance + self.eps as f64)?.sqrt()?)?;
                let scaled = normed.broadcast_mul(&self.weight)?;
                match &self.bias {
                    Some(bias) => scaled.broadcast_add(bias),
                    None => Ok(scaled),
                }
            }
        }
    }
}

/// Two-pass layer norm on the CPU in f32: the mean first, then the variance of the centred
/// values, as PyTorch does, so large activations keep their precision.
struct FusedLayerNorm {
    eps: f32,
    with_bias: bool,
}

impl CustomOp3 for FusedLayerNorm {
    fn name(&self) -> &'static str {
        "routerc-layer-norm"
    }

    fn cpu_fwd(
        &self,
        xs: &CpuStorage,
        xs_layout: &Layout,
        weight: &CpuStorage,
        weight_layout: &Layout,
        bias: &CpuStorage,
        bias_layout: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (CpuStorage::F32(xs), CpuStorage::F32(weight), CpuStorage::F32(bias)) =
            (xs, weight, bias)
        else {
            candle_core::bail!("layer norm expects f32 tensors")
        };
        let contiguous = |data: &'_ [f32], layout: &Layout| -> Result<Vec<f32>> {
            match layout.contiguous_offsets() {
                Some((start, end)) => Ok(data[start..end].to_vec()),
                None => candle_core::bail!("layer norm expects contiguous tensors"),
            }
        };
        let weight = contiguous(weight, weight_layout)?;
        let bias = if self.with_bias {
            Some(contiguous(bias, bias_layout)?)
        } else {
            None
        };
        let Some((start, end)) = xs_layout.contiguous_offsets() else {
            candle_core::bail!("layer norm expects a contiguous input")
        };
        let xs = &xs[start..end];
        let hidden = weight.len();
        if hidden == 0 || xs.len() % hidden != 0 {
            candle_core::bail!("layer norm weight does not match the hidden size")
        }
        let mut out = vec![0f32; xs.len()];
        for (row, out_row) in xs.chunks_exact(hidden).zip(out.chunks_exact_mut(hidden)) {
            let mean = row.iter().sum::<f32>() / hidden as f32;
            let variance = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / hidden as f32;
            let inv_std = 1.0 / (variance + self.eps).sqrt();
            for (i, (out, value)) in out_row.iter_mut().zip(row).enumerate() {
                let shift = bias.as_ref().map_or(0.0, |bias| bias[i]);
                *out = (value - mean) * inv_std * weight[i] + shift;
            }
        }
        Ok((CpuStorage::F32(out), xs_layout.shape().clone()))
    }
}

/// Runs `f` over the values of an f32 tensor on the CPU, in row-major order (copying only
/// when the tensor is not contiguous already).
pub(crate) fn cpu_f32<R>(xs: &Tensor, f: impl FnOnce(&[f32]) -> R) -> Result<R> {
    let xs = xs.contiguous()?;
    let (storage, layout) = xs.storage_and_layout();
    let candle_core::Storage::Cpu(CpuStorage::F32(values)) = &*storage else {
        candle_core::bail!("the fused kernels need an f32 tensor on the CPU")
    };
    let Some((start, end)) = layout.contiguous_offsets() else {
        candle_core::bail!("the fused kernels need a contiguous tensor")
    };
    Ok(f(&values[start..end]))
}

/// Turns a `(batch, seq)` 0/1 attention mask into the additive key bias `(batch, 1, 1, seq)`.
pub(crate) fn padding_bias(attention_mask: &Tensor) -> Result<Tensor> {
    let (batch, seq) = attention_mask.dims2()?;
    let keep = attention_mask.to_dtype(DType::F32)?;
    // keep = 1 gives 0, keep = 0 gives MASKED.
    ((keep - 1.0)? * (-(MASKED as f64)))?.reshape((batch, 1, 1, seq))
}

/// Mean of the hidden states over the positions the mask keeps: `(batch, seq, hidden)` →
/// `(batch, hidden)`. Padding never contributes, so a padded batch pools like single texts.
pub fn masked_mean(hidden: &Tensor, attention_mask: &Tensor) -> Result<Tensor> {
    let mask = attention_mask
        .to_dtype(hidden.dtype())?
        .unsqueeze(D::Minus1)?;
    let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
    let counts = mask.sum(1)?.maximum(1e-9)?;
    summed.broadcast_div(&counts)
}

/// Scales each row to unit Euclidean length (a zero row stays zero).
pub fn l2_normalise(xs: &Tensor) -> Result<Tensor> {
    let norms = xs.sqr()?.sum_keepdim(D::Minus1)?.sqrt()?.maximum(1e-12)?;
    xs.broadcast_div(&norms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn fused_and_differentiable_layer_norm_agree() -> Result<()> {
        let device = Device::Cpu;
        // A large common offset is where E[x²] - E[x]² breaks down.
        let xs = (Tensor::randn(0f32, 1.0, (2, 3, 16), &device)? + 300.0)?;
        let weight = Tensor::randn(0f32, 1.0, 16, &device)?;
        let bias = Tensor::randn(0f32, 1.0, 16, &device)?;
        for with_bias in [false, true] {
            let make = |kernels| Norm {
                weight: weight.clone(),
                bias: with_bias.then(|| bias.clone()),
                eps: 1e-5,
                kernels,
            };
            let fused = make(Kernels::Fused).forward(&xs)?;
            let plain = make(Kernels::Differentiable).forward(&xs)?;
            let diff = (fused - plain)?.abs()?.max_all()?.to_scalar::<f32>()?;
            assert!(diff < 1e-4, "layer norms differ by {diff}");
        }
        Ok(())
    }

    #[test]
    fn padding_bias_masks_only_padding() -> Result<()> {
        let mask = Tensor::new(&[[1u32, 1, 0]], &Device::Cpu)?;
        let bias = padding_bias(&mask)?.flatten_all()?.to_vec1::<f32>()?;
        assert_eq!(bias, vec![0.0, 0.0, MASKED]);
        Ok(())
    }
}
