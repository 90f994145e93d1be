//! The signal extractors through the real loader and models.
//!
//! - `routerc eval --request` on tests/signals/policy.route for every request body in
//!   tests/signals/requests/ (headers from a `.headers` file beside it), snapshotted: the
//!   decision, each signal's value and what it found, and the routes tried;
//! - `routerc check` on tests/signals/err/*.route and *.yaml, snapshotted: models missing, of
//!   the wrong task, without the declared labels, example files missing;
//! - `routerc check` on every vLLM Semantic Router config of the shared data folder with the
//!   shipped models of `models/`: no errors;
//! - the library: an "HR_Bot" intent from five sentences with the real MiniLM, lazy and
//!   parallel computation, models loaded once.
//!
//! The fixture models (random weights, real formats) come from the shared data folder,
//! `$ROUTERC_SHARED` or `../shared` beside the repository; they are linked into a temporary
//! models folder under the names policies use (`domain`, `jailbreak`, `pii`, `embed`) and
//! passed with `--models`. MiniLM is `models/all-MiniLM-L6-v2` (`scripts/install-minilm`).

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "support/models.rs"]
mod models;
use models::{fixture_models, shared_fixtures};

use routerc::engine::CompiledPolicy;
use routerc::signals::{
    Input, ModelCache, ModelSearch, PlanOptions, RequestSignals, SignalPlan, Turn, Value,
};

fn minilm() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/all-MiniLM-L6-v2");
    assert!(
        dir.join("model.safetensors").is_file(),
        "MiniLM is not installed at {}: run scripts/install-minilm",
        dir.display()
    );
    dir
}

fn routerc(args: &[&str]) -> (i32, String, String) {
    routerc_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

/// Runs routerc from `dir` (a folder without a `models/` of its own, where the shipped
/// models of the repository's `models/` must not be found).
fn routerc_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_routerc"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("ROUTERC_MODELS")
        .output()
        .expect("routerc runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn eval_request_computes_every_signal_kind() {
    let models = fixture_models().to_str().expect("utf-8 path").to_string();
    insta::glob!("signals/requests/*.json", |path| {
        let request = path.to_str().expect("utf-8 path");
        let mut args = vec![
            "eval",
            "tests/signals/policy.route",
            "--request",
            request,
            "--models",
            &models,
            "--explain",
        ];
        let headers = std::fs::read_to_string(path.with_extension("headers")).unwrap_or_default();
        let headers: Vec<&str> = headers.lines().filter(|l| !l.trim().is_empty()).collect();
        for h in &headers {
            args.push("--header");
            args.push(h);
        }
        let (code, out, err) = routerc(&args);
        assert_eq!(code, 0, "{err}");
        insta::assert_snapshot!(out);
    });
}

#[test]
fn check_reports_what_signals_need() {
    let models = fixture_models().to_str().expect("utf-8 path").to_string();
    insta::glob!("signals/err/*.{route,yaml}", |path| {
        let file = path
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap_or(path)
            .to_str()
            .expect("utf-8 path");
        let (code, out, err) = routerc(&["check", "--format", "plain", "--models", &models, file]);
        assert_eq!(code, 1, "{out}{err}");
        insta::assert_snapshot!(out.replace(&models, "$MODELS"));
    });
}

#[test]
fn the_same_policy_checks_clean_with_its_models() {
    let models = fixture_models().to_str().expect("utf-8 path").to_string();
    let (code, out, err) = routerc(&["check", "--models", &models, "tests/signals/policy.route"]);
    assert_eq!(code, 0, "{out}{err}");
}

/// Every `config.yaml` under `dir`, nested folders too.
fn configs_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            configs_under(&path, out);
        } else if path.file_name().is_some_and(|n| n == "config.yaml") {
            out.push(path);
        }
    }
}

/// The vLLM Semantic Router configs shipped in the shared data folder check clean against the
/// models shipped in `models/`, through the real model binding: every model their signals
/// name is found, of the right task, with every label they declare (the PII signal's 17
/// Presidio entity types among them).
#[test]
fn shipped_vllm_configs_check_with_the_shipped_models() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let models = root.join("models");
    for name in ["domain", "jailbreak", "pii", "all-MiniLM-L6-v2"] {
        assert!(
            models.join(name).join("config.json").is_file(),
            "the shipped model `{name}` is missing from {} (all-MiniLM-L6-v2: run \
             scripts/install-minilm)",
            models.display()
        );
    }
    let data = shared_fixtures()
        .parent()
        .expect("data/fixtures has a parent")
        .join("vllm-sr");
    let mut configs = Vec::new();
    configs_under(&data.join("recipes"), &mut configs);
    configs.sort();
    assert!(
        configs.len() >= 8,
        "expected the recipe configs under {}",
        data.display()
    );
    configs.push(data.join("config.reference.yaml"));
    let models = models.to_str().expect("utf-8 path");
    for config in &configs {
        let file = config.to_str().expect("utf-8 path");
        let (code, out, err) = routerc(&["check", "--format", "plain", "--models", models, file]);
        assert_eq!(code, 0, "{file}:\n{out}{err}");
        assert!(
            out.lines().any(|l| l.starts_with("0 errors")),
            "{file}:\n{out}"
        );
    }
}

#[test]
fn eval_request_rejects_bad_bodies_and_headers() {
    let models = fixture_models().to_str().expect("utf-8 path").to_string();
    let bad = std::env::temp_dir().join(format!("routerc-bad-request-{}.json", std::process::id()));
    std::fs::write(&bad, r#"{"model": "auto", "messages": []}"#).expect("write");
    let bad = bad.to_str().expect("utf-8 path");
    let (code, _, err) = routerc(&[
        "eval",
        "tests/signals/policy.route",
        "--request",
        bad,
        "--models",
        &models,
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("at least one message"), "{err}");
    let good = "tests/signals/requests/plain.json";
    let (code, _, err) = routerc(&[
        "eval",
        "tests/signals/policy.route",
        "--request",
        good,
        "--models",
        &models,
        "--header",
        "no colon",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("NAME: VALUE"), "{err}");
    let elsewhere = std::env::temp_dir().join(format!("routerc-elsewhere-{}", std::process::id()));
    std::fs::create_dir_all(&elsewhere).expect("temp dir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let policy = root.join("tests/signals/policy.route");
    let good = root.join(good);
    let (code, _, err) = routerc_in(
        &elsewhere,
        &[
            "eval",
            policy.to_str().expect("utf-8 path"),
            "--request",
            good.to_str().expect("utf-8 path"),
        ],
    );
    let _ = std::fs::remove_dir(&elsewhere);
    assert_eq!(code, 1, "models not found without --models");
    assert!(
        err.contains("E0501") && err.contains("`jailbreak`"),
        "{err}"
    );
}

/// A policy checked from text, prepared against `models` (a search folder).
fn prepare(text: &str, models: &Path, cache: &ModelCache) -> (CompiledPolicy, SignalPlan) {
    let (_, checked) = routerc::check_text("test.route", text);
    let policy = checked
        .policy
        .unwrap_or_else(|| panic!("does not check: {:?}", checked.diagnostics.items));
    let program = routerc::engine::ir::lower(&policy);
    let search = ModelSearch {
        dirs: vec![models.to_path_buf()],
    };
    let plan = SignalPlan::prepare(
        &program,
        PlanOptions {
            search: &search,
            policy_dir: None,
            cache,
        },
    )
    .unwrap_or_else(|e| panic!("cannot prepare: {e:?}"));
    (CompiledPolicy::new(program).expect("compiles"), plan)
}

fn user(text: &str) -> Input<'_> {
    Input {
        model: "auto",
        messages: vec![Turn { role: "user", text }],
        headers: vec![],
        ..Default::default()
    }
}

/// Computes signal 0 of the policy for `text`.
fn number(engine: &CompiledPolicy, plan: &SignalPlan, text: &str) -> f64 {
    use routerc::engine::frame::SignalSource;
    let input = user(text);
    let mut source = RequestSignals::new(plan, &input);
    let mut frame = engine.frame();
    source.fetch(0, &mut frame);
    match source.value(0) {
        Some(Value::Number(x)) => *x,
        other => panic!("expected a number for {text:?}, got {other:?}"),
    }
}

#[test]
fn hr_bot_from_five_sentences_with_minilm() {
    let models = minilm().parent().expect("models folder").to_path_buf();
    let policy = r#"
signal hr: similarity = examples([
  "How many vacation days do I have left this year?",
  "How do I request parental leave?",
  "When is the next payday?",
  "How do I update my bank details for my salary?",
  "How do I enrol in the health insurance plan?"
], top_k: 2, aggregate: mean)
backend small { url: "http://127.0.0.1:8001/v1", model: "m" }
route hr_bot when hr > 0.5 => small
default => small
"#;
    let (engine, plan) = prepare(policy, &models, ModelCache::global());
    let hr = [
        "Can I carry over unused holiday days to next year?",
        "Who do I ask about maternity leave?",
        "My paycheck was wrong this month, who can fix it?",
        "How do I sign up for the dental insurance?",
    ];
    let other = [
        "Write a Python function that reverses a linked list.",
        "What is the boiling point of ethanol?",
        "Summarise the plot of Hamlet.",
        "Is it going to rain in Paris tomorrow?",
    ];
    let hr: Vec<f64> = hr.iter().map(|t| number(&engine, &plan, t)).collect();
    let other: Vec<f64> = other.iter().map(|t| number(&engine, &plan, t)).collect();
    let lowest_hr = hr.iter().copied().fold(f64::INFINITY, f64::min);
    let highest_other = other.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert!(
        lowest_hr > highest_other + 0.1 && mean(&hr) > mean(&other) + 0.25,
        "HR {hr:?} should score well above unrelated {other:?}"
    );
}

#[test]
fn expensive_signals_run_only_when_reached() {
    let policy = r#"
signal titan: bool = keyword("Project Titan")
signal domain: category(math, other) = classifier("domain")
signal pii: set(email, person) = token_classifier("pii")
backend small { url: "http://127.0.0.1:8001/v1", model: "m" }
route titan priority 10 when titan => small
route math when domain == math or person in pii => small
default => small
"#;
    let (engine, plan) = prepare(policy, fixture_models(), &ModelCache::default());
    assert!(plan.runs_models());
    assert!(
        plan.certain().is_empty(),
        "only the keyword is certain, and it is cheap"
    );
    let decide = |text: &str| {
        let input = user(text);
        let mut source = RequestSignals::new(&plan, &input);
        source.prefetch();
        let mut frame = engine.frame();
        let mut choices = engine.choices();
        let route = engine.decide(&mut frame, &mut source, &mut choices);
        (route, source.computed().collect::<Vec<_>>())
    };
    assert_eq!(decide("news about project titan?"), (0, vec![0]));
    let (_, computed) = decide("what is 2 + 2?");
    assert_eq!(
        computed[..2],
        [0, 1],
        "the classifier ran once the keyword failed"
    );
}

#[test]
fn certain_expensive_signals_are_computed_in_parallel_before_deciding() {
    let policy = r#"
signal jailbreak: score = classifier("jailbreak", label: "jailbreak")
signal domain: category(math, law, other) = classifier("domain")
signal pii: set(email) = token_classifier("pii")
backend small { url: "http://127.0.0.1:8001/v1", model: "m" }
route blocked priority 10 when jailbreak > 0.99 and domain == law => reject 403 "no"
route math when domain == math => small
route private when email in pii => small
default => small
"#;
    let (engine, plan) = prepare(policy, fixture_models(), &ModelCache::default());
    assert_eq!(
        plan.certain(),
        [0, 1],
        "the jailbreak and domain classifiers, not PII"
    );
    let input = user("Is a verbal contract binding?");
    let mut source = RequestSignals::new(&plan, &input);
    source.prefetch();
    assert_eq!(source.computed().collect::<Vec<_>>(), [0, 1]);
    let mut frame = engine.frame();
    let mut choices = engine.choices();
    engine.decide(&mut frame, &mut source, &mut choices);
    let read: Vec<u32> = frame.reads().collect();
    assert!(read.starts_with(&[0, 1]), "both were read: {read:?}");
}

#[test]
fn models_load_once_per_process_and_are_shared_by_plans() {
    let policy = r#"
signal a: category(math, computer_science) = classifier("domain")
signal b: score = classifier("domain", label: "computer science")
signal c: int = length.tokens
backend small { url: "http://127.0.0.1:8001/v1", model: "m" }
route x when a == math or b > 0.5 or c > 3 => small
default => small
"#;
    let cache = ModelCache::default();
    let (engine, first) = prepare(policy, fixture_models(), &cache);
    let (_, second) = prepare(policy, fixture_models(), &cache);
    assert_eq!(
        cache.len(),
        1,
        "one model directory, loaded once for both plans"
    );
    assert!(first.runs_models() && second.runs_models());
    // `length.tokens` counts with the loaded model's tokenizer (MiniLM's WordPiece here).
    use routerc::engine::frame::SignalSource;
    let input = user("unbelievably tokenizable");
    let mut source = RequestSignals::new(&first, &input);
    let mut frame = engine.frame();
    source.fetch(2, &mut frame);
    let tokens = match source.value(2) {
        Some(Value::Number(x)) => *x,
        other => panic!("{other:?}"),
    };
    assert!(tokens >= 4.0, "WordPiece splits these words: {tokens}");
    // Named by the model's directory (the fixture the `domain` link points to).
    assert_eq!(
        source.detail(2).expect("trace")["tokenizer"],
        "modernbert-domain"
    );
}

#[test]
fn pii_validators_find_structured_types_without_the_model() {
    let policy = r#"
signal pii: set(email, ssn, credit_card) = token_classifier("pii")
backend small { url: "http://127.0.0.1:8001/v1", model: "m" }
route private when pii.count > 0 => small
default => small
"#;
    let (engine, plan) = prepare(policy, fixture_models(), &ModelCache::default());
    use routerc::engine::frame::SignalSource;
    let text = "SSN 123-45-6789, card 4111-1111-1111-1111, mail bob@example.org";
    let input = user(text);
    let mut source = RequestSignals::new(&plan, &input);
    let mut frame = engine.frame();
    source.fetch(0, &mut frame);
    assert_eq!(source.value(0), Some(&Value::Set(vec![0, 1, 2])));
    let detail = source.detail(0).expect("trace");
    assert_eq!(
        detail["model_ran"], false,
        "every declared type found: no model needed"
    );
    let found: Vec<&str> = detail["spans"]
        .as_array()
        .expect("spans")
        .iter()
        .map(|s| s["text"].as_str().expect("text"))
        .collect();
    assert_eq!(
        found,
        ["123-45-6789", "4111-1111-1111-1111", "bob@example.org"]
    );
}
