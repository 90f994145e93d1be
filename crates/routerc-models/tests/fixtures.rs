//! The ground truth: every fixture in `shared/data/fixtures` is loaded through the real loader
//! and must reproduce what Hugging Face transformers computed (`expected.json`): the input ids
//! exactly, the logits, probabilities and embeddings within the stated tolerance, one text at a
//! time and as a right-padded batch.

mod common;

use candle_core::{Device, Tensor};
use common::{assert_close, expected, fixture, matrix, vector, Expected};
use routerc_models::{LoadOptions, Model, Task};

fn load(name: &str) -> (Model, Expected) {
    let dir = fixture(name);
    let model = Model::load(&dir, &LoadOptions::default())
        .unwrap_or_else(|error| panic!("fixture `{name}` does not load: {error}"));
    (model, expected(&dir))
}

fn check_input_ids(model: &Model, expected: &Expected) {
    for case in &expected.cases {
        let tokens = model.tokenize(&case.text).expect("tokenizes");
        assert_eq!(tokens.ids, case.input_ids, "input ids of {:?}", case.text);
        assert_eq!(tokens.dropped, 0);
    }
}

/// Runs the padded batch exactly as transformers did (its ids and mask) and returns the
/// outputs as nested vectors.
fn forward_padded(model: &Model, expected: &Expected) -> Tensor {
    let batch = expected
        .padded_batch
        .as_ref()
        .expect("fixture has a padded batch");
    let rows = batch.input_ids.len();
    let width = batch.input_ids[0].len();
    let ids = Tensor::from_vec(batch.input_ids.concat(), (rows, width), &Device::Cpu)
        .expect("ids tensor");
    let mask = Tensor::from_vec(batch.attention_mask.concat(), (rows, width), &Device::Cpu)
        .expect("mask tensor");
    model.forward_ids(&ids, &mask).expect("padded batch runs")
}

fn check_sequence_classifier(name: &str) {
    let (model, expected) = load(name);
    assert_eq!(model.info().task, Task::SequenceClassification);
    check_input_ids(&model, &expected);
    let tolerance = expected.tolerance;

    // One text at a time.
    for case in &expected.cases {
        let result = model.classify(&[&case.text]).expect("classifies").remove(0);
        let logits = vector(case.logits.as_ref().expect("logits"));
        assert_close(
            &result.logits,
            &logits,
            tolerance,
            &format!("logits of {:?}", case.text),
        );
        assert_close(
            &result.probs,
            case.probs.as_ref().expect("probs"),
            tolerance,
            "probs",
        );
        assert_eq!(
            Some(&result.label),
            case.label.as_ref(),
            "label of {:?}",
            case.text
        );
    }

    // The padded batch as transformers built it.
    let padded = forward_padded(&model, &expected)
        .to_vec2::<f32>()
        .expect("logits");
    let reference = matrix(&expected.padded_batch.as_ref().expect("padded batch").logits);
    for (row, (actual, wanted)) in padded.iter().zip(&reference).enumerate() {
        assert_close(
            actual,
            wanted,
            tolerance,
            &format!("padded batch row {row}"),
        );
    }

    // The same texts batched by our own tokenizer and padding.
    let texts: Vec<&str> = expected
        .cases
        .iter()
        .map(|case| case.text.as_str())
        .collect();
    let batched = model.classify(&texts).expect("classifies a batch");
    for (result, case) in batched.iter().zip(&expected.cases) {
        let logits = vector(case.logits.as_ref().expect("logits"));
        assert_close(
            &result.logits,
            &logits,
            tolerance,
            &format!("batched logits of {:?}", case.text),
        );
    }
}

#[test]
fn modernbert_domain_classifier_matches_transformers() {
    check_sequence_classifier("modernbert-domain");
}

#[test]
fn modernbert_domain_long_text_depends_on_the_sliding_window() {
    let (model, expected) = load("modernbert-domain");
    // The check is only meaningful if getting the window wrong would break the tolerance.
    let window_effect = expected
        .max_change_if_sliding_window_ignored
        .expect("fixture states the window's effect");
    assert!(window_effect > 10.0 * expected.tolerance);
    let long = expected
        .cases
        .iter()
        .max_by_key(|case| case.input_ids.len())
        .expect("cases");
    assert!(
        long.input_ids.len() > 16 * 2,
        "the long text spans several windows"
    );
    let result = model.classify(&[&long.text]).expect("classifies").remove(0);
    assert_close(
        &result.logits,
        &vector(long.logits.as_ref().expect("logits")),
        expected.tolerance,
        "long text logits",
    );
}

#[test]
fn mmbert_style_jailbreak_classifier_with_old_config_and_f16_weights_matches_transformers() {
    check_sequence_classifier("mmbert-style-jailbreak");
    let (model, _) = load("mmbert-style-jailbreak");
    assert_eq!(model.info().weights_dtype, "float16");
    assert_eq!(model.labels(), ["benign", "jailbreak"]);
}

#[test]
fn modernbert_pii_token_classifier_with_bf16_weights_matches_transformers() {
    let (model, expected) = load("modernbert-pii");
    assert_eq!(model.info().task, Task::TokenClassification);
    assert_eq!(model.info().weights_dtype, "bfloat16");
    check_input_ids(&model, &expected);
    let tolerance = expected.tolerance;

    for case in &expected.cases {
        let result = model
            .classify_tokens(&[&case.text])
            .expect("classifies tokens")
            .remove(0);
        let reference = matrix(case.logits.as_ref().expect("logits"));
        assert_eq!(
            result.tokens.len(),
            reference.len(),
            "token count of {:?}",
            case.text
        );
        for (index, (token, wanted)) in result.tokens.iter().zip(&reference).enumerate() {
            assert_close(
                &token.logits,
                wanted,
                tolerance,
                &format!("token {index} of {:?}", case.text),
            );
        }
        let labels: Vec<&str> = result
            .tokens
            .iter()
            .map(|token| token.label.as_str())
            .collect();
        let wanted: Vec<&str> = case
            .labels
            .as_ref()
            .expect("labels")
            .iter()
            .map(String::as_str)
            .collect();
        assert_eq!(labels, wanted, "labels of {:?}", case.text);
        // Offsets point back into the text.
        for token in result.tokens.iter().filter(|token| !token.special) {
            let piece = &case.text[token.start..token.end];
            let by_chars: String = case
                .text
                .chars()
                .skip(token.char_start)
                .take(token.char_end - token.char_start)
                .collect();
            assert_eq!(
                piece, by_chars,
                "byte and char offsets of {:?} agree",
                token.token
            );
        }
    }

    let padded = forward_padded(&model, &expected)
        .to_vec3::<f32>()
        .expect("logits");
    let batch = expected.padded_batch.as_ref().expect("padded batch");
    let reference: Vec<Vec<Vec<f32>>> =
        serde_json::from_value(batch.logits.clone()).expect("logits");
    for (row, (actual, wanted)) in padded.iter().zip(&reference).enumerate() {
        let real = batch.attention_mask[row]
            .iter()
            .filter(|&&keep| keep == 1)
            .count();
        for position in 0..real {
            assert_close(
                &actual[position],
                &wanted[position],
                tolerance,
                &format!("padded batch row {row} position {position}"),
            );
        }
    }
}

#[test]
fn bert_embeddings_match_sentence_transformers_pooling() {
    let (model, expected) = load("bert-embed");
    assert_eq!(model.info().task, Task::SentenceEmbedding);
    check_input_ids(&model, &expected);
    let texts: Vec<&str> = expected
        .cases
        .iter()
        .map(|case| case.text.as_str())
        .collect();
    let one_by_one: Vec<Vec<f32>> = texts
        .iter()
        .map(|text| model.embed(&[text]).expect("embeds").remove(0))
        .collect();
    let batched = model.embed(&texts).expect("embeds a batch");
    for ((single, batch), case) in one_by_one.iter().zip(&batched).zip(&expected.cases) {
        let wanted = case.embedding.as_ref().expect("embedding");
        assert_close(
            single,
            wanted,
            expected.tolerance,
            &format!("embedding of {:?}", case.text),
        );
        assert_close(
            batch,
            wanted,
            expected.tolerance,
            &format!("batched embedding of {:?}", case.text),
        );
        let norm = single.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "unit length, got {norm}");
    }
    let cosines = expected.cosine_matrix.as_ref().expect("cosine matrix");
    for (i, row) in cosines.iter().enumerate() {
        for (j, wanted) in row.iter().enumerate() {
            let cosine: f32 = one_by_one[i]
                .iter()
                .zip(&one_by_one[j])
                .map(|(a, b)| a * b)
                .sum();
            assert!(
                (cosine - wanted).abs() <= expected.tolerance,
                "cosine {i},{j}: {cosine} vs {wanted}"
            );
        }
    }
}
