//! The reports behind `routerc model inspect` and `routerc model run`: human text and JSON.

mod common;

use common::fixture;
use routerc_models::{inspect_report, run_report};

#[test]
fn inspect_names_architecture_labels_size_and_dtype() {
    let report = inspect_report(&fixture("mmbert-style-jailbreak")).expect("inspects");
    let text = report.to_string();
    for needle in [
        "ModernBertForSequenceClassification",
        "benign, jailbreak",
        "float16",
        "parameters",
        "MiB",
    ] {
        assert!(
            text.contains(needle),
            "human report lacks {needle:?}:\n{text}"
        );
    }
    let json = serde_json::to_value(&report).expect("serialises");
    assert_eq!(json["architecture"], "ModernBertForSequenceClassification");
    assert_eq!(json["labels"], serde_json::json!(["benign", "jailbreak"]));
    assert_eq!(json["weights_dtype"], "float16");
    assert_eq!(json["task"], "sequence_classification");
    assert!(json["parameters"]
        .as_u64()
        .is_some_and(|count| count > 1_000_000));
}

#[test]
fn run_prints_ids_and_probabilities_of_a_classifier() {
    let text = "What is the derivative of x^3 + 2x?";
    let report = run_report(&fixture("modernbert-domain"), text).expect("runs");
    assert_eq!(report.input_ids.first(), Some(&101));
    let human = report.to_string();
    assert!(
        human.contains("input ids  [101,") && human.contains("philosophy"),
        "{human}"
    );
    let json = serde_json::to_value(&report).expect("serialises");
    assert_eq!(json["output"]["kind"], "classification");
    assert_eq!(json["output"]["probs"].as_array().map(Vec::len), Some(14));
    assert_eq!(json["output"]["label"], "philosophy");
}

#[test]
fn run_prints_token_labels_and_embeddings() {
    let report = run_report(&fixture("modernbert-pii"), "Call John at 555-867-5309").expect("runs");
    let json = serde_json::to_value(&report).expect("serialises");
    assert_eq!(json["output"]["kind"], "token_classification");
    assert_eq!(
        json["output"]["tokens"].as_array().map(Vec::len),
        Some(report.input_ids.len())
    );
    assert!(report.to_string().contains("[CLS]"));

    let report = run_report(&fixture("bert-embed"), "hello world").expect("runs");
    let json = serde_json::to_value(&report).expect("serialises");
    assert_eq!(json["output"]["kind"], "embedding");
    assert_eq!(
        json["output"]["embedding"].as_array().map(Vec::len),
        Some(32)
    );
    assert!(
        report.to_string().contains("32 dimensions, norm 1.0000"),
        "{report}"
    );
}
