//! The network builders on their own: the differentiable kernels compute what the fused ones
//! do, a ModernBERT built from fresh variables trains, and a BERT checkpoint saved with a
//! `bert.` prefix loads like one without.

mod common;

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use candle_nn::{Optimizer, VarBuilder, VarMap};
use common::{assert_close, expected, fixture, scratch_copy, vector};
use routerc_models::blocks::Activation;
use routerc_models::config::EncoderConfig;
use routerc_models::modernbert::{
    AttentionKind, ModernBert, ModernBertConfig, ModernBertSequenceClassifier, Pooling,
};
use routerc_models::{Kernels, LoadOptions, Model, ModelConfig};

#[test]
fn differentiable_kernels_reproduce_transformers_too() {
    let dir = fixture("modernbert-domain");
    let config = ModelConfig::from_file(&dir.join("config.json")).expect("config");
    let EncoderConfig::ModernBert(encoder) = &config.encoder else {
        panic!("not a ModernBERT config")
    };
    // SAFETY: the fixture is read-only and not modified while mapped.
    let builder = unsafe {
        VarBuilder::from_mmaped_safetensors(
            &[dir.join("model.safetensors")],
            DType::F32,
            &Device::Cpu,
        )
    }
    .expect("weights map");
    let network = ModernBertSequenceClassifier::load(
        encoder,
        config.labels.len(),
        Kernels::Differentiable,
        builder,
    )
    .expect("network builds");
    let expected = expected(&dir);
    for case in &expected.cases {
        let ids = Tensor::new(case.input_ids.as_slice(), &Device::Cpu)
            .and_then(|ids| ids.unsqueeze(0))
            .expect("ids");
        let mask = ids.ones_like().expect("mask");
        let logits = network
            .forward(&ids, &mask)
            .and_then(|l| l.squeeze(0)?.to_vec1::<f32>())
            .expect("runs");
        assert_close(
            &logits,
            &vector(case.logits.as_ref().expect("logits")),
            expected.tolerance,
            &case.text,
        );
    }
}

fn tiny_config() -> ModernBertConfig {
    ModernBertConfig {
        vocab_size: 50,
        hidden_size: 32,
        intermediate_size: 48,
        num_attention_heads: 4,
        layer_types: vec![AttentionKind::Global, AttentionKind::SlidingWindow],
        max_position_embeddings: 64,
        local_attention: 4,
        global_rope_theta: 160_000.0,
        local_rope_theta: 10_000.0,
        norm_eps: 1e-5,
        norm_bias: false,
        attention_bias: false,
        mlp_bias: false,
        hidden_activation: Activation::Gelu,
        classifier_pooling: Pooling::Mean,
        classifier_bias: false,
        classifier_activation: Activation::Gelu,
        pad_token_id: 0,
    }
}

#[test]
fn a_modernbert_built_from_fresh_variables_trains() {
    let device = Device::Cpu;
    let variables = VarMap::new();
    let builder = VarBuilder::from_varmap(&variables, DType::F32, &device);
    let network =
        ModernBertSequenceClassifier::load(&tiny_config(), 2, Kernels::Differentiable, builder)
            .expect("network builds");
    // Two classes told apart by which tokens they use.
    let ids = Tensor::new(
        &[[1u32, 5, 6, 7, 5, 6, 7, 2], [1, 30, 31, 32, 30, 31, 32, 2]],
        &device,
    )
    .expect("ids");
    let mask = ids.ones_like().expect("mask");
    let targets = Tensor::new(&[0u32, 1], &device).expect("targets");
    let mut optimiser = candle_nn::AdamW::new_lr(variables.all_vars(), 1e-2).expect("optimiser");
    let loss_at = |network: &ModernBertSequenceClassifier| {
        let logits = network.forward(&ids, &mask).expect("forward");
        candle_nn::loss::cross_entropy(&logits, &targets).expect("loss")
    };
    let first = loss_at(&network).to_scalar::<f32>().expect("scalar");
    for _ in 0..20 {
        let loss = loss_at(&network);
        optimiser.backward_step(&loss).expect("backward");
    }
    let last = loss_at(&network).to_scalar::<f32>().expect("scalar");
    assert!(last < first * 0.5, "loss went from {first} to {last}");
}

#[test]
fn fused_kernels_match_differentiable_ones_on_fresh_weights() {
    let device = Device::Cpu;
    let variables = VarMap::new();
    let builder = VarBuilder::from_varmap(&variables, DType::F32, &device);
    let plain = ModernBertSequenceClassifier::load(
        &tiny_config(),
        3,
        Kernels::Differentiable,
        builder.clone(),
    )
    .expect("network builds");
    let fused = ModernBertSequenceClassifier::load(&tiny_config(), 3, Kernels::Fused, builder)
        .expect("network builds");
    let ids = Tensor::new(&[[1u32, 9, 8, 7, 6, 5, 4, 3, 2, 11, 12, 13]], &device).expect("ids");
    let mask = ids.ones_like().expect("mask");
    let a = plain
        .forward(&ids, &mask)
        .and_then(|l| l.flatten_all()?.to_vec1::<f32>())
        .expect("runs");
    let b = fused
        .forward(&ids, &mask)
        .and_then(|l| l.flatten_all()?.to_vec1::<f32>())
        .expect("runs");
    assert_close(&a, &b, 1e-5, "fused vs differentiable");
}

#[test]
fn bert_weights_under_a_bert_prefix_load_like_plain_ones() {
    let dir = scratch_copy("bert-embed", "bert-prefix");
    let weights = dir.join("model.safetensors");
    let tensors: HashMap<String, Tensor> =
        candle_core::safetensors::load(&weights, &Device::Cpu).expect("weights");
    let prefixed: HashMap<String, Tensor> = tensors
        .into_iter()
        .map(|(name, t)| (format!("bert.{name}"), t))
        .collect();
    candle_core::safetensors::save(&prefixed, &weights).expect("save");
    let config_path = dir.join("config.json");
    let config = std::fs::read_to_string(&config_path)
        .expect("config")
        .replace("\"BertModel\"", "\"BertForMaskedLM\"");
    std::fs::write(&config_path, config).expect("write config");

    let model = Model::load(&dir, &LoadOptions::default()).expect("prefixed checkpoint loads");
    let expected = expected(&fixture("bert-embed"));
    for case in &expected.cases {
        let embedding = model.embed(&[&case.text]).expect("embeds").remove(0);
        assert_close(
            &embedding,
            case.embedding.as_ref().expect("embedding"),
            expected.tolerance,
            &case.text,
        );
    }
}

/// The fused attention kernel scores sliding-window layers block by block against their window
/// and skips padding per key; the plain path adds seq² masks to global attention. Both must
/// give the same hidden states at every real position: lengths below, at and above the
/// window and the kernel's 64-query block, odd lengths, and a padded batch.
#[test]
fn windowed_fused_attention_matches_masked_global_attention() {
    let device = Device::Cpu;
    for activation in [Activation::Gelu, Activation::GeluTanh, Activation::Silu] {
        let config = ModernBertConfig {
            hidden_size: 32,
            intermediate_size: 40,
            num_attention_heads: 4,
            layer_types: vec![
                AttentionKind::SlidingWindow,
                AttentionKind::Global,
                AttentionKind::SlidingWindow,
            ],
            max_position_embeddings: 256,
            local_attention: 16,
            hidden_activation: activation,
            ..tiny_config()
        };
        let variables = VarMap::new();
        let builder = VarBuilder::from_varmap(&variables, DType::F32, &device);
        let plain = ModernBert::load(&config, Kernels::Differentiable, builder.clone())
            .expect("network builds");
        let fused = ModernBert::load(&config, Kernels::Fused, builder).expect("network builds");
        let text = |length: usize| -> Vec<u32> {
            (0..length).map(|i| ((i * 7 + 3) % 49 + 1) as u32).collect()
        };
        for length in [1, 3, 8, 9, 17, 64, 65, 129, 150] {
            let ids = Tensor::new(text(length).as_slice(), &device)
                .and_then(|ids| ids.unsqueeze(0))
                .expect("ids");
            let mask = ids.ones_like().expect("mask");
            let a = plain.forward(&ids, &mask).expect("plain runs");
            let b = fused.forward(&ids, &mask).expect("fused runs");
            let (a, b) = (flat(&a), flat(&b));
            assert_close(&a, &b, 1e-4, &format!("{activation:?}, {length} tokens"));
        }
        // A padded batch: every real position must match the plain path and the text alone.
        let lengths = [150usize, 70, 5];
        let longest = lengths[0];
        let mut ids = Vec::new();
        let mut mask = Vec::new();
        for &length in &lengths {
            let mut row = text(length);
            row.resize(longest, 0);
            ids.extend(row);
            mask.extend((0..longest).map(|i| u32::from(i < length)));
        }
        let ids = Tensor::from_vec(ids, (lengths.len(), longest), &device).expect("ids");
        let mask = Tensor::from_vec(mask, (lengths.len(), longest), &device).expect("mask");
        let a = plain.forward(&ids, &mask).expect("plain runs");
        let b = fused.forward(&ids, &mask).expect("fused runs");
        for (row, &length) in lengths.iter().enumerate() {
            let real = |xs: &Tensor| {
                flat(
                    &xs.get(row)
                        .and_then(|x| x.narrow(0, 0, length))
                        .expect("row"),
                )
            };
            let context = format!("{activation:?}, padded row of {length}");
            assert_close(&real(&a), &real(&b), 1e-4, &context);
            let alone_ids = Tensor::new(text(length).as_slice(), &device)
                .and_then(|ids| ids.unsqueeze(0))
                .expect("ids");
            let alone = fused
                .forward(&alone_ids, &alone_ids.ones_like().expect("mask"))
                .and_then(|x| x.squeeze(0))
                .map(|x| flat(&x))
                .expect("runs");
            assert_close(&real(&b), &alone, 1e-4, &format!("{context} vs alone"));
        }
    }
}

fn flat(xs: &Tensor) -> Vec<f32> {
    xs.flatten_all()
        .and_then(|x| x.to_vec1::<f32>())
        .expect("f32 values")
}
