//! Seeded initial weights: a small random generator of our own (candle's CPU device cannot be
//! seeded), the initialisation of every variable by its name, and token embeddings projected
//! from a larger model's word embeddings by PCA.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarMap;

use crate::ModelError;

/// SplitMix64: small, fast, and the same sequence on every platform.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..bound`.
    pub fn below(&mut self, bound: usize) -> usize {
        (self.uniform() * bound as f64) as usize % bound.max(1)
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u = self.uniform().max(1e-300);
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }

    /// Fisher–Yates.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// The name of the token-embedding matrix in a ModernBERT checkpoint.
pub const TOKEN_EMBEDDINGS: &str = "model.embeddings.tok_embeddings.weight";

/// Gives every variable its seeded initial value, in name order so the result depends only on
/// the seed: matrices a truncated normal (σ = 0.02, output projections scaled down by
/// `1/sqrt(2 · layers)` as ModernBERT does), norms one, biases zero. The token embeddings take
/// `embeddings` when given.
pub fn initialise(
    varmap: &VarMap,
    layers: usize,
    seed: u64,
    embeddings: Option<&Tensor>,
) -> Result<(), ModelError> {
    let mut rng = Rng::new(seed);
    let data = varmap.data().lock().map_err(ModelError::training)?;
    let mut names: Vec<&String> = data.keys().collect();
    names.sort();
    for name in names {
        let var = &data[name];
        let shape = var.shape().clone();
        let value = if name == TOKEN_EMBEDDINGS && embeddings.is_some() {
            embeddings.cloned().unwrap_or_else(|| unreachable!())
        } else if name.ends_with(".bias") {
            Tensor::zeros(&shape, DType::F32, &Device::Cpu).map_err(ModelError::training)?
        } else if name.contains("norm") {
            Tensor::ones(&shape, DType::F32, &Device::Cpu).map_err(ModelError::training)?
        } else {
            let std = if name.ends_with("attn.Wo.weight") || name.ends_with("mlp.Wo.weight") {
                0.02 / (2.0 * layers as f64).sqrt()
            } else {
                0.02
            };
            let values: Vec<f32> = (0..shape.elem_count())
                .map(|_| (rng.normal().clamp(-2.0, 2.0) * std) as f32)
                .collect();
            Tensor::from_vec(values, &shape, &Device::Cpu).map_err(ModelError::training)?
        };
        var.set(&value).map_err(ModelError::training)?;
    }
    Ok(())
}

/// The word embeddings of the BERT model in `dir`, projected onto their `dims` principal
/// components: `(vocab, dims)`, centred, scaled to unit variance overall.
///
/// The components are found by subspace iteration on the covariance matrix with a seeded
/// start, so the result is reproducible.
pub fn pca_embeddings(dir: &Path, dims: usize, seed: u64) -> Result<Tensor, ModelError> {
    let path = dir.join("model.safetensors");
    // SAFETY: the file is only read while the matrix is copied out, and is not modified.
    let mapped =
        unsafe { candle_core::safetensors::MmapedSafetensors::new(&path) }.map_err(|error| {
            ModelError::Weights {
                path: path.clone(),
                message: error.to_string(),
            }
        })?;
    let device = Device::Cpu;
    let words = [
        "embeddings.word_embeddings.weight",
        "bert.embeddings.word_embeddings.weight",
    ]
    .iter()
    .find_map(|name| mapped.load(name, &device).ok())
    .ok_or_else(|| ModelError::MissingTensor {
        path: path.clone(),
        tensor: "embeddings.word_embeddings.weight".to_string(),
    })?;
    let failed = ModelError::training;
    let words = words.to_dtype(DType::F32).map_err(failed)?;
    let (vocab, width) = words.dims2().map_err(failed)?;
    if dims > width {
        return Err(ModelError::Training {
            message: format!("cannot project {width}-dimension embeddings up to {dims}"),
        });
    }
    let centred = words
        .broadcast_sub(&words.mean_keepdim(0).map_err(failed)?)
        .map_err(failed)?;
    let covariance = (centred
        .t()
        .map_err(failed)?
        .matmul(&centred)
        .map_err(failed)?
        / vocab as f64)
        .map_err(failed)?;
    let mut rng = Rng::new(seed);
    let start: Vec<f32> = (0..width * dims).map(|_| rng.normal() as f32).collect();
    let mut basis =
        orthonormal_columns(&Tensor::from_vec(start, (width, dims), &device).map_err(failed)?)?;
    for _ in 0..40 {
        basis = orthonormal_columns(&covariance.matmul(&basis).map_err(failed)?)?;
    }
    let projected = centred.matmul(&basis).map_err(failed)?;
    let std = projected
        .sqr()
        .and_then(|squares| squares.mean_all())
        .and_then(|mean| mean.sqrt())
        .and_then(|std| std.to_scalar::<f32>())
        .map_err(failed)?;
    (projected / f64::from(std.max(1e-12))).map_err(failed)
}

/// Gram–Schmidt on the columns of a `(rows, cols)` matrix, in f64.
fn orthonormal_columns(matrix: &Tensor) -> Result<Tensor, ModelError> {
    let failed = ModelError::training;
    let (rows, cols) = matrix.dims2().map_err(failed)?;
    let columns = matrix
        .t()
        .and_then(|t| t.to_dtype(DType::F64))
        .and_then(|t| t.to_vec2::<f64>())
        .map_err(failed)?;
    let mut done: Vec<Vec<f64>> = Vec::with_capacity(cols);
    for mut column in columns {
        for _ in 0..2 {
            for previous in &done {
                let dot: f64 = column.iter().zip(previous).map(|(a, b)| a * b).sum();
                for (value, p) in column.iter_mut().zip(previous) {
                    *value -= dot * p;
                }
            }
        }
        let norm = column.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-30);
        column.iter_mut().for_each(|value| *value /= norm);
        done.push(column);
    }
    let flat: Vec<f32> = done.into_iter().flatten().map(|v| v as f32).collect();
    Tensor::from_vec(flat, (cols, rows), &Device::Cpu)
        .and_then(|t| t.t())
        .and_then(|t| t.contiguous())
        .map_err(failed)
}

/// Rounds a tensor to float16 and back, so a model in memory computes what its saved copy will.
pub fn round_to_f16(tensor: &Tensor) -> candle_core::Result<Tensor> {
    tensor.to_dtype(DType::F16)?.to_dtype(DType::F32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_reproducible_and_spread() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let xs: Vec<f64> = (0..1000).map(|_| a.uniform()).collect();
        let ys: Vec<f64> = (0..1000).map(|_| b.uniform()).collect();
        assert_eq!(xs, ys);
        let mean = xs.iter().sum::<f64>() / 1000.0;
        assert!((mean - 0.5).abs() < 0.05, "mean {mean}");
        let mut items: Vec<usize> = (0..10).collect();
        a.shuffle(&mut items);
        let mut sorted = items.clone();
        sorted.sort();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn gram_schmidt_gives_orthonormal_columns() -> candle_core::Result<()> {
        let mut rng = Rng::new(1);
        let values: Vec<f32> = (0..24).map(|_| rng.normal() as f32).collect();
        let matrix = Tensor::from_vec(values, (6, 4), &Device::Cpu)?;
        let q = orthonormal_columns(&matrix).expect("orthonormalises");
        let gram = q.t()?.matmul(&q)?.to_vec2::<f32>()?;
        for (i, row) in gram.iter().enumerate() {
            for (j, value) in row.iter().enumerate() {
                let expected = if i == j { 1.0 } else { 0.0 };
                assert!((value - expected).abs() < 1e-5, "gram[{i}][{j}] = {value}");
            }
        }
        Ok(())
    }
}
