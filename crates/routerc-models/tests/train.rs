//! `routerc train` end to end on tiny data: the loss goes down, the saved directory loads
//! through the real loader, and the reloaded model reproduces the trained network's logits.

mod common;

use std::path::{Path, PathBuf};

use common::fixture;
use routerc_models::train::{train, Shape, TrainOptions, TrainReport};
use routerc_models::{LoadOptions, Model, Task};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("routerc-train-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

fn tiny(task: Task, data: &Path, out: &Path) -> TrainOptions {
    let tokenizer = fixture("modernbert-domain").join("tokenizer.json");
    let mut options = TrainOptions::new(task, data.to_path_buf(), out.to_path_buf(), tokenizer);
    options.shape = Shape {
        hidden: 32,
        layers: 2,
        heads: 2,
        intermediate: 64,
        global_every: 2,
        local_attention: 8,
        max_positions: 64,
    };
    options.epochs = 6;
    options.batch_size = 4;
    options.learning_rate = 5e-3;
    options.max_length = 32;
    options
}

fn assert_trained(report: &TrainReport) {
    let first = report.epoch_losses.first().copied().unwrap_or_default();
    let last = report.epoch_losses.last().copied().unwrap_or_default();
    assert!(
        last < first * 0.8,
        "the loss did not go down: {:?}",
        report.epoch_losses
    );
    assert!(!report.check_texts.is_empty());
}

fn assert_close(ours: &[f32], theirs: &[f32], what: &str) {
    assert_eq!(ours.len(), theirs.len(), "{what}: lengths differ");
    for (a, b) in ours.iter().zip(theirs) {
        assert!((a - b).abs() < 1e-3, "{what}: {a} vs {b}");
    }
}

const TOPICS: [(&str, &[&str]); 2] = [
    (
        "sports",
        &[
            "the team won the football match",
            "she scored a goal in the final minute",
            "the tennis player served an ace",
            "our coach planned the training session",
            "the runner finished the marathon",
            "fans cheered at the basketball game",
            "the striker missed a penalty kick",
            "the swimmer broke the world record",
        ],
    ),
    (
        "cooking",
        &[
            "bake the bread for forty minutes",
            "chop the onions and fry them in butter",
            "add salt and pepper to the soup",
            "the recipe needs two eggs and flour",
            "simmer the sauce over low heat",
            "whisk the cream until it is stiff",
            "roast the vegetables in the oven",
            "season the chicken with garlic",
        ],
    ),
];

#[test]
fn a_sequence_classifier_trains_and_reloads_with_the_same_logits() {
    let dir = scratch("sequence");
    let data = dir.join("data.jsonl");
    let lines: Vec<String> = TOPICS
        .iter()
        .flat_map(|(label, texts)| {
            texts
                .iter()
                .map(move |text| serde_json::json!({"text": text, "label": label}).to_string())
        })
        .collect();
    std::fs::write(&data, lines.join("\n")).expect("data");
    let out = dir.join("model");
    let report = train(
        &tiny(Task::SequenceClassification, &data, &out),
        &mut |_| {},
    )
    .expect("training runs");
    assert_trained(&report);
    assert_eq!(report.labels, vec!["cooking", "sports"]);

    let model = Model::load(&out, &LoadOptions::default()).expect("the saved model loads");
    assert_eq!(model.info().weights_dtype, "float16");
    assert_eq!(
        model.info().architecture,
        "ModernBertForSequenceClassification"
    );
    let texts: Vec<&str> = report.check_texts.iter().map(String::as_str).collect();
    let results = model.classify(&texts).expect("classifies");
    for ((text, ours), result) in texts.iter().zip(&report.check_logits).zip(&results) {
        assert_close(ours, &result.logits, text);
    }
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["model_type"], "modernbert");
    assert_eq!(config["label2id"]["sports"], 1);
    assert_eq!(config["id2label"]["0"], "cooking");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_token_classifier_trains_and_reloads_with_the_same_logits() {
    let dir = scratch("token");
    let data = dir.join("data.jsonl");
    let names = [
        "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
    ];
    let lines: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let text = format!("please call {name} at {}55-01{i}9 today", i + 2);
            let start = "please call ".len();
            let phone_start = start + name.len() + 4;
            let phone_end = text.len() - " today".len();
            serde_json::json!({"text": text, "entities": [
                {"start": start, "end": start + name.len(), "label": "PERSON"},
                {"start": phone_start, "end": phone_end, "label": "PHONE"},
            ]})
            .to_string()
        })
        .collect();
    std::fs::write(&data, lines.join("\n")).expect("data");
    let out = dir.join("model");
    let mut options = tiny(Task::TokenClassification, &data, &out);
    options.labels = Some(vec!["PERSON".to_string(), "PHONE".to_string()]);
    let report = train(&options, &mut |_| {}).expect("training runs");
    assert_trained(&report);
    assert_eq!(
        report.labels,
        vec!["O", "B-PERSON", "I-PERSON", "B-PHONE", "I-PHONE"]
    );

    let model = Model::load(&out, &LoadOptions::default()).expect("the saved model loads");
    let texts: Vec<&str> = report.check_texts.iter().map(String::as_str).collect();
    let results = model.classify_tokens(&texts).expect("classifies tokens");
    for ((text, ours), result) in texts.iter().zip(&report.check_logits).zip(&results) {
        let theirs: Vec<f32> = result
            .tokens
            .iter()
            .flat_map(|token| token.logits.clone())
            .collect();
        assert_close(ours, &theirs, text);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The queries and keys must get gradients: candle's fused rope and softmax have no backward
/// pass, and with either of them attention would silently never learn.
#[test]
fn attention_queries_and_keys_get_gradients() {
    use candle_core::{DType, Device, Tensor};
    use candle_nn::{VarBuilder, VarMap};
    use routerc_models::blocks::Activation;
    use routerc_models::modernbert::{
        AttentionKind, ModernBertConfig, ModernBertSequenceClassifier, Pooling,
    };
    use routerc_models::Kernels;

    let hidden = 16;
    let config = ModernBertConfig {
        vocab_size: 50,
        hidden_size: hidden,
        intermediate_size: 32,
        num_attention_heads: 2,
        layer_types: vec![AttentionKind::Global, AttentionKind::SlidingWindow],
        max_position_embeddings: 32,
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
    };
    let varmap = VarMap::new();
    let builder = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let network =
        ModernBertSequenceClassifier::load(&config, 3, Kernels::Differentiable, builder).unwrap();
    let ids = Tensor::new(&[[1u32, 7, 9, 4, 12, 2], [1, 5, 5, 8, 2, 0]], &Device::Cpu).unwrap();
    let mask = Tensor::new(&[[1u32, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0]], &Device::Cpu).unwrap();
    let logits = network.forward(&ids, &mask).unwrap();
    let targets = Tensor::new(&[0u32, 2], &Device::Cpu).unwrap();
    let loss = candle_nn::loss::cross_entropy(&logits, &targets).unwrap();
    let grads = loss.backward().unwrap();
    let data = varmap.data().lock().unwrap();
    for layer in 0..2 {
        let wqkv = &data[&format!("model.layers.{layer}.attn.Wqkv.weight")];
        let grad = grads.get(wqkv).expect("Wqkv has a gradient");
        for (part, name) in [(0, "query"), (1, "key")] {
            let size = grad
                .narrow(0, part * hidden, hidden)
                .unwrap()
                .abs()
                .unwrap()
                .max_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap();
            assert!(
                size > 0.0,
                "layer {layer}: the {name} weights get no gradient"
            );
        }
    }
}
