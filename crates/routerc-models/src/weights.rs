//! Step two of loading: find the weights file, describe it, and hand its tensors to the
//! network builders as f32.
//!
//! `model.safetensors` is memory-mapped and read once: each tensor is converted to f32 (the
//! dtype we compute in, whatever the file stores) into memory the model owns, and the mapping
//! is released when loading ends. `pytorch_model.bin` is accepted when there is no safetensors
//! file; candle reads its pickled tensors directly.
//!
//! This module does not know architectures: it lists what the file holds and lets the
//! builders ask for tensors by name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device};
use candle_nn::VarBuilder;

use crate::ModelError;

/// The weight file names we look for, in order of preference.
pub(crate) const SAFETENSORS: &str = "model.safetensors";
pub(crate) const PYTORCH: &str = "pytorch_model.bin";

/// What a weights file holds, read from its header.
#[derive(Debug, Clone)]
pub(crate) struct WeightsFile {
    pub path: PathBuf,
    pub bytes: u64,
    /// Element count of every tensor, by name.
    pub tensors: BTreeMap<String, usize>,
    /// Element count per floating-point storage dtype. Integer tensors are buffers (BERT's
    /// `position_ids`), not parameters, and are left out.
    pub dtypes: BTreeMap<&'static str, usize>,
}

impl WeightsFile {
    /// The number of floating-point weights: what "parameters" means for a checkpoint.
    pub fn parameters(&self) -> usize {
        self.dtypes.values().sum()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }

    /// The storage dtype by transformers' name, e.g. `bfloat16`; several joined by `+` when
    /// the file mixes them, most frequent first.
    pub fn dtype_name(&self) -> String {
        let mut dtypes: Vec<_> = self.dtypes.iter().collect();
        dtypes.sort_by(|a, b| b.1.cmp(a.1));
        dtypes
            .into_iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join("+")
    }
}

/// Opens the weights of the model in `dir`: a description and a builder yielding f32 tensors.
pub(crate) fn open(
    dir: &Path,
    device: &Device,
) -> Result<(WeightsFile, VarBuilder<'static>), ModelError> {
    let safetensors = dir.join(SAFETENSORS);
    let pytorch = dir.join(PYTORCH);
    if safetensors.is_file() {
        open_safetensors(&safetensors, device)
    } else if pytorch.is_file() {
        open_pytorch(&pytorch, device)
    } else {
        Err(ModelError::MissingFile {
            dir: dir.to_path_buf(),
            file: SAFETENSORS.to_string(),
        })
    }
}

fn open_safetensors(
    path: &Path,
    device: &Device,
) -> Result<(WeightsFile, VarBuilder<'static>), ModelError> {
    let unreadable = |error: candle_core::Error| ModelError::Weights {
        path: path.to_path_buf(),
        message: error
            .to_string()
            .lines()
            .next()
            .unwrap_or_default()
            .to_lowercase(),
    };
    // SAFETY: the mapping is only read while the model is being built, and every tensor is
    // copied out of it (converted to f32) before `Model::load` returns and drops it. Like any
    // memory-mapped reader we rely on the file not being truncated during those moments.
    let mapped =
        unsafe { candle_core::safetensors::MmapedSafetensors::new(path) }.map_err(unreadable)?;
    let mut tensors = BTreeMap::new();
    let mut dtypes = BTreeMap::new();
    for (name, view) in mapped.tensors() {
        let count: usize = view.shape().iter().product();
        let dtype = DType::try_from(view.dtype()).map_err(unreadable)?;
        if dtype.is_float() {
            *dtypes.entry(dtype_name(dtype)).or_insert(0) += count;
        }
        tensors.insert(name, count);
    }
    let file = WeightsFile {
        path: path.to_path_buf(),
        bytes: file_size(path)?,
        tensors,
        dtypes,
    };
    Ok((
        file,
        VarBuilder::from_backend(Box::new(mapped), DType::F32, device.clone()),
    ))
}

fn open_pytorch(
    path: &Path,
    device: &Device,
) -> Result<(WeightsFile, VarBuilder<'static>), ModelError> {
    let unreadable = |error: candle_core::Error| ModelError::Weights {
        path: path.to_path_buf(),
        message: error
            .to_string()
            .lines()
            .next()
            .unwrap_or_default()
            .to_lowercase(),
    };
    let infos = candle_core::pickle::read_pth_tensor_info(path, false, None).map_err(unreadable)?;
    let mut tensors = BTreeMap::new();
    let mut dtypes = BTreeMap::new();
    for info in infos {
        let count = info.layout.shape().elem_count();
        if info.dtype.is_float() {
            *dtypes.entry(dtype_name(info.dtype)).or_insert(0) += count;
        }
        tensors.insert(info.name, count);
    }
    let file = WeightsFile {
        path: path.to_path_buf(),
        bytes: file_size(path)?,
        tensors,
        dtypes,
    };
    let builder = VarBuilder::from_pth(path, DType::F32, device).map_err(unreadable)?;
    Ok((file, builder))
}

fn file_size(path: &Path) -> Result<u64, ModelError> {
    std::fs::metadata(path)
        .map(|metadata| metadata.len())
        .map_err(|error| ModelError::Read {
            path: path.to_path_buf(),
            message: error.to_string().to_lowercase(),
        })
}

/// transformers' names for dtypes, as config.json and users write them.
fn dtype_name(dtype: DType) -> &'static str {
    match dtype {
        DType::F32 => "float32",
        DType::F16 => "float16",
        DType::BF16 => "bfloat16",
        DType::F64 => "float64",
        _ => "other",
    }
}
