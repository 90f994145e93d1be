//! The metrics of `routerc model eval` on small hand-made files whose answers were worked out
//! by hand.

use std::collections::HashMap;
use std::path::PathBuf;

use routerc_models::dataset::{read_labelled, read_spanned, Span};
use routerc_models::eval::{evaluate_spans_with, evaluate_with, nearest_label, Similarity};

fn write(name: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("routerc-eval-{}-{name}", std::process::id()));
    std::fs::write(&path, text).expect("scratch file");
    path
}

/// Ten texts, gold labels cat (4), dog (3), fish (3); the "model" predicts from a fixed table:
///
/// | gold \ predicted | cat | dog | fish |
/// |------------------|-----|-----|------|
/// | cat              |  3  |  1  |  0   |
/// | dog              |  1  |  2  |  0   |
/// | fish             |  0  |  1  |  2   |
///
/// cat:  precision 3/4, recall 3/4, F1 0.75
/// dog:  precision 2/4, recall 2/3, F1 2·(1/2·2/3)/(1/2+2/3) = 4/7
/// fish: precision 2/2, recall 2/3, F1 0.8
/// accuracy 7/10; macro F1 (0.75 + 4/7 + 0.8) / 3.
#[test]
fn classification_metrics_match_the_hand_computed_values() {
    let rows = [
        ("c1", "cat", "cat"),
        ("c2", "cat", "cat"),
        ("c3", "cat", "cat"),
        ("c4", "cat", "dog"),
        ("d1", "dog", "dog"),
        ("d2", "dog", "dog"),
        ("d3", "dog", "cat"),
        ("f1", "fish", "fish"),
        ("f2", "fish", "fish"),
        ("f3", "fish", "dog"),
    ];
    // The same data in the three formats the command reads.
    let jsonl: String = rows
        .iter()
        .map(|(text, gold, _)| format!("{{\"text\": \"{text}\", \"label\": \"{gold}\"}}\n"))
        .collect();
    let csv: String = std::iter::once("label,text\n".to_string())
        .chain(
            rows.iter()
                .map(|(text, gold, _)| format!("{gold},\"{text}\"\n")),
        )
        .collect();
    let kb = r#"{"labels": {
        "cat": {"exemplars": ["c1", "c2", "c3", "c4"]},
        "dog": {"exemplars": ["d1", "d2", "d3"]},
        "fish": {"exemplars": ["f1", "f2", "f3"]}}}"#;
    let predictions: HashMap<&str, &str> = rows.iter().map(|(t, _, p)| (*t, *p)).collect();
    let labels: Vec<String> = ["cat", "dog", "fish"].map(String::from).to_vec();
    for (name, text) in [
        ("a.jsonl", jsonl.as_str()),
        ("a.csv", &csv),
        ("kb.json", kb),
    ] {
        let path = write(name, text);
        let examples = read_labelled(&path).expect("reads");
        assert_eq!(examples.len(), 10, "{name}");
        let metrics = evaluate_with(&path, &labels, &examples, |texts| {
            Ok(texts
                .iter()
                .map(|t| labels.iter().position(|l| l == predictions[t]).unwrap())
                .collect())
        })
        .expect("evaluates");
        assert_eq!(metrics.correct, 7, "{name}");
        assert!((metrics.accuracy - 0.7).abs() < 1e-12);
        assert_eq!(
            metrics.confusion,
            vec![vec![3, 1, 0], vec![1, 2, 0], vec![0, 1, 2]]
        );
        let expect = [
            (0.75, 0.75, 0.75),
            (0.5, 2.0 / 3.0, 4.0 / 7.0),
            (1.0, 2.0 / 3.0, 0.8),
        ];
        for (class, (p, r, f)) in metrics.classes.iter().zip(expect) {
            assert!(
                (class.precision - p).abs() < 1e-12,
                "{} precision",
                class.label
            );
            assert!((class.recall - r).abs() < 1e-12, "{} recall", class.label);
            assert!((class.f1 - f).abs() < 1e-12, "{} F1", class.label);
        }
        assert!((metrics.macro_f1 - (0.75 + 4.0 / 7.0 + 0.8) / 3.0).abs() < 1e-12);
        let _ = std::fs::remove_file(&path);
    }
}

#[test]
fn gold_labels_match_model_labels_across_spelling_and_unknown_ones_are_errors() {
    let path = write(
        "b.jsonl",
        "{\"text\": \"x\", \"label\": \"Computer Science\"}\n",
    );
    let examples = read_labelled(&path).expect("reads");
    let labels = vec!["computer_science".to_string(), "math".to_string()];
    let metrics = evaluate_with(&path, &labels, &examples, |_| Ok(vec![0])).expect("matches");
    assert_eq!(metrics.correct, 1);
    let error = evaluate_with(&path, &["math".to_string()], &examples, |_| Ok(vec![0]))
        .expect_err("unknown label");
    assert!(error.to_string().contains("`Computer Science`"), "{error}");
    let _ = std::fs::remove_file(&path);
}

/// Two texts (character offsets; "é" makes bytes and characters differ).
/// Gold: text 1 PERSON 0..4, EMAIL 12..23; text 2 PHONE 3..11, PERSON 15..18.
/// Predicted (bytes): text 1 PERSON 0..5 (right), EMAIL 13..20 (wrong end);
///            text 2 PHONE 3..11 (right), SSN 25..30 (spurious).
/// PERSON: P 1/1, R 1/2; EMAIL: P 0/1, R 0/1; PHONE: 1/1, 1/1; SSN: P 0/1, no gold.
/// micro: 2 correct of 4 predicted, 4 gold → P 0.5, R 0.5, F1 0.5.
#[test]
fn entity_metrics_match_the_hand_computed_values() {
    let path = write(
        "spans.jsonl",
        concat!(
            "{\"text\": \"José writes jo@mail.com.\", \"entities\": [{\"start\": 0, \"end\": 4, \"label\": \"PERSON\"}, {\"start\": 12, \"end\": 23, \"label\": \"EMAIL\"}]}\n",
            "{\"text\": \"at 555-0199 to Ann, code 12345\", \"entities\": [{\"start\": 3, \"end\": 11, \"label\": \"PHONE\"}, {\"start\": 15, \"end\": 18, \"label\": \"PERSON\"}]}\n",
        ),
    );
    let examples = read_spanned(&path).expect("reads");
    // "José" is 5 bytes: the email starts at character 12, byte 13.
    assert_eq!(examples[0].entities[1].start, 13);
    let span = |start, end, label: &str| Span {
        start,
        end,
        label: label.to_string(),
    };
    let predicted = [
        vec![span(0, 5, "PERSON"), span(13, 20, "EMAIL")],
        vec![span(3, 11, "PHONE"), span(25, 30, "SSN")],
    ];
    let mut calls = 0;
    let report = evaluate_spans_with(&examples, |texts| {
        calls += 1;
        Ok(predicted[..texts.len()].to_vec())
    })
    .expect("evaluates");
    assert_eq!(calls, 1);
    let by_type: HashMap<&str, (f64, f64, usize)> = report
        .types
        .iter()
        .map(|t| (t.label.as_str(), (t.precision, t.recall, t.gold)))
        .collect();
    assert_eq!(by_type["PERSON"], (1.0, 0.5, 2));
    assert_eq!(by_type["EMAIL"], (0.0, 0.0, 1));
    assert_eq!(by_type["PHONE"], (1.0, 1.0, 1));
    assert_eq!(by_type["SSN"], (0.0, 0.0, 0));
    assert_eq!(
        (report.micro.precision, report.micro.recall, report.micro.f1),
        (0.5, 0.5, 0.5)
    );
    let _ = std::fs::remove_file(&path);
}

#[test]
fn nearest_and_mean_similarity_can_disagree() {
    // Label 0 has one very close exemplar and one far one; label 1 two moderately close ones.
    let exemplars = vec![
        (vec![1.0, 0.0], 0),
        (vec![-1.0, 0.0], 0),
        (vec![0.8, 0.6], 1),
        (vec![0.6, 0.8], 1),
    ];
    let query = [0.96, 0.28];
    assert_eq!(
        nearest_label(&query, &exemplars, 2, Similarity::Max, None),
        0
    );
    assert_eq!(
        nearest_label(&query, &exemplars, 2, Similarity::Mean, None),
        1
    );
    // Leaving out the closest exemplar changes the nearest one.
    assert_eq!(
        nearest_label(&query, &exemplars, 2, Similarity::Max, Some(0)),
        1
    );
}
