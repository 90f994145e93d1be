//! Latency of one request (one text, batch of one) at 16, 128 and 512 tokens:
//! - a ModernBERT-base shaped classifier (149M parameters, random weights) through routerc's
//!   public path (tokenize + classify), and stock candle-transformers' ModernBERT on the same
//!   weights and ids;
//! - the real all-MiniLM-L6-v2 (when `scripts/install-minilm` has installed it);
//! - the small ModernBERT fixture classifier.
//!
//! Threads: one per inference unless `RAYON_NUM_THREADS` says otherwise, so
//! `RAYON_NUM_THREADS=2 cargo bench -p routerc-models --bench latency` measures two.

use std::collections::HashMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use candle_transformers::models::modernbert as stock;
use criterion::{BenchmarkId, Criterion};
use routerc_models::blocks::Activation;
use routerc_models::modernbert::{
    AttentionKind, ModernBertConfig, ModernBertSequenceClassifier, Pooling,
};
use routerc_models::{Kernels, LoadOptions, Model, Truncation};

const LENGTHS: [usize; 3] = [16, 128, 512];
const LABELS: usize = 14;

fn shared_fixtures() -> PathBuf {
    match std::env::var_os("ROUTERC_SHARED") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    }
    .join("data/fixtures")
}

/// A text that tokenizes to well over 512 tokens, cut to length by the model's truncation.
fn long_text() -> String {
    "The quarterly report shows revenue of 4.2 million dollars, up 12 percent, while costs rose. "
        .repeat(40)
}

fn base_config() -> ModernBertConfig {
    ModernBertConfig {
        vocab_size: 50368,
        hidden_size: 768,
        intermediate_size: 1152,
        num_attention_heads: 12,
        layer_types: (0..22)
            .map(|i| {
                if i % 3 == 0 {
                    AttentionKind::Global
                } else {
                    AttentionKind::SlidingWindow
                }
            })
            .collect(),
        max_position_embeddings: 8192,
        local_attention: 128,
        global_rope_theta: 160_000.0,
        local_rope_theta: 10_000.0,
        norm_eps: 1e-5,
        norm_bias: false,
        attention_bias: false,
        mlp_bias: false,
        hidden_activation: Activation::Gelu,
        classifier_pooling: Pooling::Cls,
        classifier_bias: false,
        classifier_activation: Activation::Gelu,
        pad_token_id: 0,
    }
}

/// Writes a ModernBERT-base shaped model directory with random weights (once per target dir).
fn base_model_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("modernbert-base-random");
    if dir.join("model.safetensors").is_file() {
        return dir;
    }
    std::fs::create_dir_all(&dir).expect("create model dir");
    let variables = VarMap::new();
    let builder = VarBuilder::from_varmap(&variables, DType::F32, &Device::Cpu);
    ModernBertSequenceClassifier::load(&base_config(), LABELS, Kernels::Fused, builder)
        .expect("random weights");
    variables
        .save(dir.join("model.safetensors"))
        .expect("save weights");
    let labels: HashMap<String, String> = (0..LABELS)
        .map(|i| (i.to_string(), format!("label{i}")))
        .collect();
    let config = serde_json::json!({
        "architectures": ["ModernBertForSequenceClassification"],
        "model_type": "modernbert",
        "vocab_size": 50368, "hidden_size": 768, "intermediate_size": 1152,
        "num_hidden_layers": 22, "num_attention_heads": 12, "global_attn_every_n_layers": 3,
        "global_rope_theta": 160000.0, "local_rope_theta": 10000.0, "local_attention": 128,
        "max_position_embeddings": 8192, "norm_eps": 1e-5, "pad_token_id": 0,
        "classifier_pooling": "cls", "id2label": labels,
    });
    std::fs::write(dir.join("config.json"), config.to_string()).expect("write config");
    std::fs::copy(
        shared_fixtures().join("tokenizer.json"),
        dir.join("tokenizer.json"),
    )
    .expect("copy tokenizer");
    dir
}

fn stock_candle(dir: &Path) -> stock::ModernBertForSequenceClassification {
    let config = stock::Config {
        vocab_size: 50368,
        hidden_size: 768,
        num_hidden_layers: 22,
        num_attention_heads: 12,
        intermediate_size: 1152,
        max_position_embeddings: 8192,
        layer_norm_eps: 1e-5,
        pad_token_id: 0,
        global_attn_every_n_layers: 3,
        global_rope_theta: 160_000.0,
        local_attention: 128,
        local_rope_theta: 10_000.0,
        classifier_config: Some(stock::ClassifierConfig {
            id2label: (0..LABELS)
                .map(|i| (i.to_string(), format!("label{i}")))
                .collect(),
            label2id: (0..LABELS)
                .map(|i| (format!("label{i}"), i.to_string()))
                .collect(),
            classifier_pooling: stock::ClassifierPooling::CLS,
        }),
    };
    // SAFETY: the file was written by this benchmark and is not modified while mapped.
    let builder = unsafe {
        VarBuilder::from_mmaped_safetensors(
            &[dir.join("model.safetensors")],
            DType::F32,
            &Device::Cpu,
        )
    }
    .expect("map weights");
    stock::ModernBertForSequenceClassification::load(builder, &config).expect("stock model")
}

fn load_truncated(dir: &Path, length: usize) -> Model {
    let options = LoadOptions {
        max_length: Some(length),
        truncation: Truncation::Head,
    };
    Model::load(dir, &options).expect("model loads")
}

fn modernbert_base(c: &mut Criterion) {
    let dir = base_model_dir();
    let text = long_text();
    let stock = stock_candle(&dir);
    let mut group = c.benchmark_group("modernbert-base");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    for length in LENGTHS {
        let model = load_truncated(&dir, length);
        assert_eq!(model.tokenize(&text).expect("tokenizes").len(), length);
        group.bench_with_input(BenchmarkId::new("routerc", length), &length, |b, _| {
            b.iter(|| black_box(model.classify(&[&text]).expect("classifies")))
        });
        let ids = model.tokenize(&text).expect("tokenizes").ids;
        let ids = Tensor::new(ids.as_slice(), &Device::Cpu)
            .and_then(|t| t.unsqueeze(0))
            .expect("ids");
        let mask = ids.ones_like().expect("mask");
        group.bench_with_input(BenchmarkId::new("stock-candle", length), &length, |b, _| {
            b.iter(|| black_box(stock.forward(&ids, &mask).expect("runs")))
        });
    }
    group.finish();
}

fn minilm(c: &mut Criterion) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/all-MiniLM-L6-v2");
    if !dir.join("model.safetensors").is_file() {
        eprintln!("note: all-MiniLM-L6-v2 is not installed, its benchmarks do not run (run `scripts/install-minilm`)");
        return;
    }
    let text = long_text();
    let mut group = c.benchmark_group("minilm");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for length in LENGTHS {
        let model = load_truncated(&dir, length);
        group.bench_with_input(BenchmarkId::from_parameter(length), &length, |b, _| {
            b.iter(|| black_box(model.embed(&[&text]).expect("embeds")))
        });
    }
    group.finish();
}

fn fixture_classifier(c: &mut Criterion) {
    let dir = shared_fixtures().join("modernbert-domain");
    let text = long_text();
    let mut group = c.benchmark_group("modernbert-domain-fixture");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    for length in LENGTHS {
        let model = load_truncated(&dir, length);
        group.bench_with_input(BenchmarkId::from_parameter(length), &length, |b, _| {
            b.iter(|| black_box(model.classify(&[&text]).expect("classifies")))
        });
    }
    group.finish();
}

fn main() {
    let threads = routerc_models::threads::use_one_thread_per_inference();
    eprintln!("threads per inference: {threads}");
    let mut criterion = Criterion::default().configure_from_args();
    minilm(&mut criterion);
    fixture_classifier(&mut criterion);
    modernbert_base(&mut criterion);
    criterion.final_summary();
}
