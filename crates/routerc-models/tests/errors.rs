//! Broken model directories: each failure is an error that names the file, field or tensor
//! at fault, in lowercase, with user input in backticks.

mod common;

use std::collections::HashMap;
use std::path::Path;

use candle_core::Device;
use common::{fixture, scratch_copy, scratch_dir};
use routerc_models::{LoadOptions, Model, ModelError};

fn load_error(dir: &Path) -> ModelError {
    match Model::load(dir, &LoadOptions::default()) {
        Ok(_) => panic!("`{}` loaded but should not", dir.display()),
        Err(error) => error,
    }
}

#[track_caller]
fn assert_mentions(error: &ModelError, needles: &[&str]) {
    let message = error.to_string();
    for needle in needles {
        assert!(
            message.contains(needle),
            "`{message}` does not mention {needle}"
        );
    }
    assert!(
        !message.contains("Error") && !message.contains("Tensor") && !message.ends_with('.'),
        "message style: {message}"
    );
}

fn edit_config(dir: &Path, edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>)) {
    let path = dir.join("config.json");
    let mut config: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("config")).expect("json");
    edit(&mut config);
    std::fs::write(&path, serde_json::to_string_pretty(&config).expect("json"))
        .expect("write config");
}

#[test]
fn missing_directory_is_named() {
    let error = load_error(Path::new("/nonexistent/models/domain"));
    assert_mentions(&error, &["`/nonexistent/models/domain`", "does not exist"]);
}

#[test]
fn missing_minilm_points_at_the_install_script() {
    let error = load_error(Path::new("/nonexistent/models/all-MiniLM-L6-v2"));
    let help = error.help().expect("help line");
    assert!(help.contains("scripts/install-minilm"), "{help}");
}

#[test]
fn each_missing_file_is_named() {
    for file in ["config.json", "model.safetensors", "tokenizer.json"] {
        let dir = scratch_copy("modernbert-domain", &format!("missing-{file}"));
        std::fs::remove_file(dir.join(file)).expect("remove");
        let error = load_error(&dir);
        assert!(matches!(error, ModelError::MissingFile { .. }), "{error:?}");
        assert_mentions(&error, &[&format!("`{file}`")]);
    }
}

#[test]
fn missing_config_fields_are_named() {
    for field in [
        "hidden_size",
        "num_hidden_layers",
        "local_attention",
        "pad_token_id",
    ] {
        let dir = scratch_copy("modernbert-domain", &format!("missing-field-{field}"));
        edit_config(&dir, |config| {
            config.remove(field);
        });
        let error = load_error(&dir);
        assert!(
            matches!(error, ModelError::MissingField { .. }),
            "{error:?}"
        );
        assert_mentions(&error, &[&format!("`{field}`")]);
    }
}

#[test]
fn missing_norm_eps_is_named_in_either_style() {
    let dir = scratch_copy("mmbert-style-jailbreak", "missing-eps");
    edit_config(&dir, |config| {
        config.remove("norm_eps");
        config.remove("layer_norm_eps");
    });
    assert_mentions(&load_error(&dir), &["`norm_eps`"]);
}

#[test]
fn classifier_without_labels_is_an_error() {
    let dir = scratch_copy("modernbert-domain", "missing-labels");
    edit_config(&dir, |config| {
        config.remove("id2label");
        config.remove("label2id");
    });
    assert_mentions(&load_error(&dir), &["`id2label`"]);
}

#[test]
fn unknown_architecture_is_named_with_the_supported_ones() {
    let dir = scratch_copy("modernbert-domain", "unknown-architecture");
    edit_config(&dir, |config| {
        config.insert(
            "architectures".into(),
            serde_json::json!(["GPT2LMHeadModel"]),
        );
    });
    let error = load_error(&dir);
    assert!(
        matches!(error, ModelError::UnsupportedArchitecture { .. }),
        "{error:?}"
    );
    assert_mentions(
        &error,
        &["`GPT2LMHeadModel`", "`ModernBertForSequenceClassification`"],
    );
}

#[test]
fn invalid_json_names_the_file() {
    let dir = scratch_copy("bert-embed", "invalid-json");
    std::fs::write(dir.join("config.json"), "{ not json").expect("write");
    assert_mentions(&load_error(&dir), &["config.json", "is not valid JSON"]);
}

#[test]
fn missing_tensor_is_named() {
    let dir = scratch_copy("modernbert-domain", "missing-tensor");
    let weights = dir.join("model.safetensors");
    let mut tensors: HashMap<String, candle_core::Tensor> =
        candle_core::safetensors::load(&weights, &Device::Cpu).expect("weights load");
    tensors.remove("model.layers.1.attn_norm.weight");
    candle_core::safetensors::save(&tensors, &weights).expect("weights save");
    let error = load_error(&dir);
    assert!(
        matches!(error, ModelError::MissingTensor { .. }),
        "{error:?}"
    );
    assert_mentions(&error, &["`model.layers.1.attn_norm.weight`"]);
}

#[test]
fn weights_that_contradict_the_config_name_the_tensor() {
    let dir = scratch_copy("modernbert-domain", "wrong-shape");
    edit_config(&dir, |config| {
        config.insert("intermediate_size".into(), serde_json::json!(128));
    });
    let error = load_error(&dir);
    assert!(matches!(error, ModelError::TensorShape { .. }), "{error:?}");
    assert_mentions(&error, &["`model.layers.0.mlp.Wi.weight`"]);
}

#[test]
fn truncated_weights_are_reported_not_panicked_on() {
    let dir = scratch_copy("bert-embed", "truncated-weights");
    let weights = dir.join("model.safetensors");
    let bytes = std::fs::read(&weights).expect("read");
    std::fs::write(&weights, &bytes[..bytes.len() / 2]).expect("truncate");
    let error = load_error(&dir);
    assert!(matches!(error, ModelError::Weights { .. }), "{error:?}");
    assert_mentions(&error, &["model.safetensors"]);
}

#[test]
fn unreadable_tokenizer_is_named() {
    let dir = scratch_copy("bert-embed", "bad-tokenizer");
    std::fs::write(dir.join("tokenizer.json"), "{}").expect("write");
    assert_mentions(&load_error(&dir), &["tokenizer.json"]);
}

#[test]
fn a_max_length_beyond_the_model_is_refused() {
    let options = LoadOptions {
        max_length: Some(100_000),
        ..LoadOptions::default()
    };
    let error = Model::load(fixture("bert-embed"), &options).expect_err("too long");
    assert_mentions(&error, &["`max_length`", "512"]);
}

#[test]
fn operations_must_fit_the_task() {
    let classifier =
        Model::load(fixture("modernbert-domain"), &LoadOptions::default()).expect("loads");
    let error = classifier.embed(&["hello"]).expect_err("not an embedder");
    assert_mentions(
        &error,
        &["`embed`", "sentence embedding", "sequence classification"],
    );
    let embedder = Model::load(fixture("bert-embed"), &LoadOptions::default()).expect("loads");
    assert!(embedder.classify(&["hello"]).is_err());
    assert!(embedder.classify_tokens(&["hello"]).is_err());
}

#[test]
fn an_empty_directory_reports_config_first() {
    let dir = scratch_dir("empty-model-dir");
    assert_mentions(&load_error(&dir), &["`config.json`"]);
}
