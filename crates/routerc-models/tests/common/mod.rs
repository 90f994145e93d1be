//! Helpers shared by the integration tests: where the reference fixtures live, how to read
//! their expected.json, and scratch model directories.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The shared data folder: `ROUTERC_SHARED`, else `<workspace>/../shared`.
///
/// Panics with directions when it is missing: the fixtures are the ground truth of the model
/// runtime and a test run without them must not look green.
pub fn shared_dir() -> PathBuf {
    let dir = match std::env::var_os("ROUTERC_SHARED") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    };
    assert!(
        dir.join("data/fixtures").is_dir(),
        "the reference model fixtures are missing: expected `{}/data/fixtures` \
         (set ROUTERC_SHARED to the folder that holds `data/fixtures`)",
        dir.display()
    );
    dir
}

pub fn fixture(name: &str) -> PathBuf {
    let dir = shared_dir().join("data/fixtures").join(name);
    assert!(dir.is_dir(), "fixture `{}` is missing", dir.display());
    dir
}

#[derive(Debug, Deserialize)]
pub struct Expected {
    pub kind: String,
    pub tolerance: f32,
    pub cases: Vec<Case>,
    pub padded_batch: Option<PaddedBatch>,
    pub max_change_if_sliding_window_ignored: Option<f32>,
    pub cosine_matrix: Option<Vec<Vec<f32>>>,
}

#[derive(Debug, Deserialize)]
pub struct Case {
    pub text: String,
    pub input_ids: Vec<u32>,
    /// `[labels]` for sequence classification, `[tokens][labels]` for token classification.
    pub logits: Option<serde_json::Value>,
    pub probs: Option<Vec<f32>>,
    pub label: Option<String>,
    pub labels: Option<Vec<String>>,
    pub embedding: Option<Vec<f32>>,
}

#[derive(Debug, Deserialize)]
pub struct PaddedBatch {
    pub input_ids: Vec<Vec<u32>>,
    pub attention_mask: Vec<Vec<u32>>,
    pub logits: serde_json::Value,
}

pub fn expected(fixture_dir: &Path) -> Expected {
    let path = fixture_dir.join("expected.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("{} does not parse: {error}", path.display()))
}

pub fn vector(value: &serde_json::Value) -> Vec<f32> {
    serde_json::from_value(value.clone()).expect("a list of numbers")
}

pub fn matrix(value: &serde_json::Value) -> Vec<Vec<f32>> {
    serde_json::from_value(value.clone()).expect("a list of lists of numbers")
}

/// The largest absolute difference, after checking the lengths agree.
pub fn max_diff(actual: &[f32], expected: &[f32]) -> f32 {
    assert_eq!(actual.len(), expected.len(), "lengths differ");
    actual
        .iter()
        .zip(expected)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max)
}

#[track_caller]
pub fn assert_close(actual: &[f32], expected: &[f32], tolerance: f32, what: &str) {
    let diff = max_diff(actual, expected);
    assert!(
        diff <= tolerance,
        "{what}: differs by {diff} (tolerance {tolerance})\nactual:   {actual:?}\nexpected: {expected:?}"
    );
}

/// A fresh copy of a fixture directory to break on purpose.
pub fn scratch_copy(fixture_name: &str, test_name: &str) -> PathBuf {
    let dir = scratch_dir(test_name);
    for entry in std::fs::read_dir(fixture(fixture_name)).expect("fixture is readable") {
        let entry = entry.expect("fixture entry");
        // Read and write rather than copy: the fixtures are read-only and copies would be too.
        let bytes = std::fs::read(entry.path()).expect("read fixture file");
        std::fs::write(dir.join(entry.file_name()), bytes).expect("write scratch file");
    }
    dir
}

/// An empty directory private to one test.
pub fn scratch_dir(test_name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("routerc-models")
        .join(test_name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("clear scratch dir");
    }
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}
