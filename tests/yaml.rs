//! The YAML frontend's tests, as data where possible:
//!
//! - every vLLM Semantic Router config shipped in the shared data folder (every
//!   `recipes/**/config.yaml` and `config.reference.yaml`) checks with zero errors, and every
//!   decision its `probes.yaml` names exists as a route;
//! - for each of them, the `.route` policy `routerc convert` writes makes the same decision as
//!   the YAML on random signal values, and so does the routerc YAML written from that;
//! - `.route` ⇄ routerc YAML round trips give back the same tree, for the corpus and for
//!   generated policies;
//! - every file under tests/yaml/err/ is snapshotted with its rendered diagnostics; every file
//!   under tests/yaml/ok/ checks clean;
//! - vLLM's selection order (tiers, catch-alls, priorities, names) on hand-written configs;
//! - hostile input: a 50 MB file and 10,000-deep nesting give one precise error.
//!
//! The shared data folder is `$ROUTERC_SHARED`, or `../shared` beside the repository. These
//! tests fail, loudly, when it is missing: the real configs are the point.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use routerc::policy::{Policy, SignalValue, Type};
use routerc::render::{self, Format};
use routerc::source::FileSystem;
use routerc::yaml::{self, Target};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn shared() -> PathBuf {
    let dir = std::env::var_os("ROUTERC_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared"));
    let data = dir.join("data/vllm-sr");
    assert!(
        data.join("config.reference.yaml").is_file(),
        "the shared data folder is missing: expected {} (set ROUTERC_SHARED to the folder that holds data/vllm-sr)",
        data.display()
    );
    data
}

fn files_named(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = entry.expect("directory entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == name) {
                found.push(p);
            }
        }
    }
    found.sort();
    found
}

/// Every shipped vLLM config: the recipes (nested ones too) and the reference.
fn vsr_configs() -> Vec<PathBuf> {
    let data = shared();
    let mut configs = files_named(&data.join("recipes"), "config.yaml");
    assert!(
        configs.len() >= 8,
        "expected the recipe configs under {}",
        data.display()
    );
    configs.push(data.join("config.reference.yaml"));
    // The end-to-end test config is a complete v0.3 config too.
    configs.extend(
        std::fs::read_dir(data.join("e2e"))
            .expect("the e2e folder")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml")),
    );
    configs
}

fn render_all(program: &routerc::source::Program, checked: &routerc::check::Checked) -> String {
    let diagnostics = checked.diagnostics.sorted();
    let mut out = Vec::new();
    render::write(
        &mut out,
        &program.sources,
        &diagnostics,
        Format::Plain,
        false,
    )
    .expect("rendering to memory cannot fail");
    String::from_utf8(out).expect("UTF-8")
}

fn policy_of(path: &Path) -> Policy {
    let (program, checked) = routerc::check_file(path, &FileSystem);
    match checked.policy {
        Some(p) => p,
        None => panic!(
            "{} has errors:\n{}",
            path.display(),
            render_all(&program, &checked)
        ),
    }
}

fn policy_of_text(name: &str, text: &str) -> Policy {
    let (program, checked) = routerc::check_text(name, text);
    match checked.policy {
        Some(p) => p,
        None => panic!(
            "{name} has errors:\n{}\n{text}",
            render_all(&program, &checked)
        ),
    }
}

#[test]
fn every_shipped_vllm_config_checks_without_errors() {
    for config in vsr_configs() {
        let (program, checked) = routerc::check_file(&config, &FileSystem);
        assert!(
            !checked.diagnostics.has_errors(),
            "{} has errors:\n{}",
            config.display(),
            render_all(&program, &checked)
        );
        let policy = checked.policy.expect("a policy without errors");
        assert!(policy.routes.len() > 1, "{}", config.display());
    }
}

/// Every `expected_decision` anywhere in a probes file.
fn expected_decisions(node: &yaml::node::Node, out: &mut Vec<String>) {
    match &node.value {
        yaml::node::Value::Map(entries) => {
            for e in entries {
                if e.key == "expected_decision" {
                    if let Some(s) = e.value.as_str() {
                        out.push(s.to_string());
                    }
                }
                expected_decisions(&e.value, out);
            }
        }
        yaml::node::Value::Seq(items) => items.iter().for_each(|i| expected_decisions(i, out)),
        _ => {}
    }
}

#[test]
fn every_decision_a_probe_expects_exists() {
    let probes = files_named(&shared().join("recipes"), "probes.yaml");
    assert!(
        probes.len() >= 8,
        "expected a probes.yaml beside each recipe"
    );
    let mut checked_names = 0;
    for probe in probes {
        let config = probe.with_file_name("config.yaml");
        let policy = policy_of(&config);
        let text = std::fs::read_to_string(&probe).expect("probes are readable");
        let (node, d) = yaml::node::load(&text, routerc::syntax::FileId(0));
        assert!(d.is_empty(), "{}: {d:?}", probe.display());
        let mut names = Vec::new();
        expected_decisions(&node.expect("a document"), &mut names);
        assert!(!names.is_empty(), "{} names no decision", probe.display());
        for name in names {
            let route = yaml::vsr::sanitize(&name);
            assert!(
                policy.routes.iter().any(|r| r.name == route),
                "{}: decision `{name}` is not a route of {}",
                probe.display(),
                config.display()
            );
            checked_names += 1;
        }
    }
    assert!(checked_names > 50);
}

// ---------------------------------------------------------------------------------------
// Same decisions: random signal values, first match by the reference semantics.

/// A small deterministic generator (xorshift), seeded by proptest.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The constants a policy's conditions compare with, so random values land on both sides of
/// every threshold and hit every string.
fn constants(policy: &Policy) -> (Vec<f64>, Vec<String>) {
    use routerc::policy::{Atom, Cond};
    fn walk(c: &Cond, nums: &mut Vec<f64>, strs: &mut Vec<String>) {
        match c {
            Cond::And(items) | Cond::Or(items) => items.iter().for_each(|i| walk(i, nums, strs)),
            Cond::Not(inner) => walk(inner, nums, strs),
            Cond::Atom(Atom::Num { value, .. }, _) => nums.push(*value),
            Cond::Atom(Atom::Str { values, .. }, _) => strs.extend(values.iter().cloned()),
            _ => {}
        }
    }
    let (mut nums, mut strs) = (Vec::new(), vec!["something else".to_string()]);
    for r in &policy.routes {
        walk(&r.condition, &mut nums, &mut strs);
    }
    (nums, strs)
}

/// Random values for `policy`'s signals, by name (absent ones left out).
fn random_values(policy: &Policy, rng: &mut Rng) -> Vec<(String, SignalValue)> {
    let (nums, strs) = constants(policy);
    let number = |rng: &mut Rng, lo: f64, hi: f64| -> f64 {
        match rng.below(3) {
            0 if !nums.is_empty() => {
                let c = nums[rng.below(nums.len())];
                [c, c - 0.01, c + 0.01, c - 1.0, c + 1.0][rng.below(5)].clamp(lo, hi)
            }
            _ => lo + (hi - lo) * rng.unit(),
        }
    };
    let mut out = Vec::new();
    for s in &policy.signals {
        if rng.below(5) == 0 {
            continue; // absent
        }
        let v = match &s.ty {
            Type::Bool => SignalValue::Bool(rng.below(2) == 0),
            Type::Int => SignalValue::Number(number(rng, -5.0, 2_000_000.0).round()),
            Type::Float => SignalValue::Number(number(rng, -1e6, 1e6)),
            Type::Score => SignalValue::Number(number(rng, 0.0, 1.0)),
            Type::Similarity => SignalValue::Number(number(rng, -1.0, 1.0)),
            Type::String => SignalValue::String(strs[rng.below(strs.len())].clone()),
            Type::Category(labels) => {
                SignalValue::Category(labels.iter().map(|_| rng.unit()).collect())
            }
            Type::Set(labels) => SignalValue::Set(
                (0..labels.len() as u32)
                    .filter(|_| rng.below(4) == 0)
                    .collect(),
            ),
        };
        out.push((s.name.clone(), v));
    }
    out
}

/// The name of the route `policy` chooses (the first whose condition holds, or the most
/// confident of the first tier that has a match).
fn decide(policy: &Policy, values: &[(String, SignalValue)]) -> String {
    let by_id: Vec<Option<SignalValue>> = policy
        .signals
        .iter()
        .map(|s| {
            values
                .iter()
                .find(|(n, _)| *n == s.name)
                .map(|(_, v)| v.clone())
        })
        .collect();
    let chosen = policy
        .choose(&by_id)
        .expect("the default route always matches");
    policy.routes[chosen].name.clone()
}

/// A value's debug text with every span erased: two policies built from the same tree
/// through different syntaxes differ only in their spans.
fn without_spans(debug: String) -> String {
    const SPAN: &str = "Span { file: FileId(";
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug.as_str();
    while let Some(i) = rest.find(SPAN) {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        match after.find('}') {
            Some(close) => {
                out.push('_');
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(after);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The two policies are the same (signals with their extractors, backends, prompts, routes
/// with their conditions and actions, tests), spans aside, and decide alike on random values.
fn same_decisions(a: &Policy, b: &Policy, seed: u64, cases: usize, what: &str) {
    for (x, y) in [
        (format!("{:?}", a.signals), format!("{:?}", b.signals)),
        (format!("{:?}", a.backends), format!("{:?}", b.backends)),
        (format!("{:?}", a.prompts), format!("{:?}", b.prompts)),
        (format!("{:?}", a.tests), format!("{:?}", b.tests)),
    ] {
        assert_eq!(
            without_spans(x),
            without_spans(y),
            "{what}: the declarations differ"
        );
    }
    for (x, y) in a.routes.iter().zip(&b.routes) {
        assert_eq!(
            without_spans(format!("{x:?}")),
            without_spans(format!("{y:?}")),
            "{what}: route `{}` differs",
            x.name
        );
    }
    assert_eq!(a.routes.len(), b.routes.len(), "{what}: the routes differ");
    assert_eq!(a.selection, b.selection, "{what}: the selection differs");
    let mut rng = Rng(seed | 1);
    for _ in 0..cases {
        let values = random_values(a, &mut rng);
        assert_eq!(
            decide(a, &values),
            decide(b, &values),
            "{what}: different decisions for {values:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    /// The YAML config, its `.route` conversion and the routerc YAML written from that make
    /// the same decision on random signal values.
    #[test]
    fn converted_policies_decide_like_the_vllm_config(seed in any::<u64>()) {
        let mut configs = vsr_configs();
        // No shipped config ranks several decisions by confidence.
        configs.push(root().join("tests/yaml/ok/vsr_confidence.yaml"));
        for config in configs {
            let original = policy_of(&config);
            let route = yaml::convert(&config, &FileSystem, Target::Route)
                .unwrap_or_else(|_| panic!("{} does not convert", config.display()));
            let converted = policy_of_text("converted.route", &route);
            same_decisions(&original, &converted, seed, 200, &format!("{} as .route", config.display()));
            let file = routerc::syntax::parse(&route, routerc::syntax::FileId(0)).file;
            let yaml_text = yaml::routerc::to_yaml(&file);
            let again = policy_of_text("converted.yaml", &yaml_text);
            same_decisions(&original, &again, seed, 200, &format!("{} as routerc YAML", config.display()));
        }
    }
}

// ---------------------------------------------------------------------------------------
// `.route` ⇄ routerc YAML: the same tree back.

/// The valid `.route` policies of the repository. (Names where the language takes strings, as
/// invalid policies may have, read back as strings: only valid policies round-trip exactly.)
fn route_files() -> Vec<PathBuf> {
    let mut found = Vec::new();
    for dir in ["tests/check/ok", "examples", "policies"] {
        let mut stack = vec![root().join(dir)];
        while let Some(d) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for entry in entries {
                let p = entry.expect("directory entry").path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|e| e == "route") {
                    found.push(p);
                }
            }
        }
    }
    found.sort();
    found
}

/// `.route` text → AST → routerc YAML → AST: the same tree (spans aside); `None` when the
/// text does not parse.
fn round_trip(text: &str) -> Option<(String, String, String)> {
    let parsed = routerc::syntax::parse(text, routerc::syntax::FileId(0));
    if parsed
        .diagnostics
        .iter()
        .any(|d| d.severity() == routerc::diagnostic::Severity::Error)
    {
        return None;
    }
    let yaml_text = yaml::routerc::to_yaml(&parsed.file);
    let back = yaml::parse(&yaml_text, routerc::syntax::FileId(0));
    assert!(
        back.diagnostics.is_empty(),
        "the YAML written for this policy does not read back:\n{yaml_text}\n{:?}",
        back.diagnostics
    );
    Some((
        routerc::fmt::shape(&parsed.file),
        routerc::fmt::shape(&back.file),
        yaml_text,
    ))
}

#[test]
fn route_corpus_round_trips_through_yaml() {
    let files = route_files();
    assert!(files.len() > 10);
    let mut tried = 0;
    for f in files {
        let text = std::fs::read_to_string(&f).expect("readable");
        // Order differs (the YAML form groups declarations by kind), so compare sorted items.
        if let Some((a, b, yaml_text)) = round_trip(&sorted_items(&text)) {
            assert_eq!(a, b, "{} changed through YAML:\n{yaml_text}", f.display());
            tried += 1;
        }
    }
    assert!(tried > 10);
}

/// The items of a `.route` text, grouped in the order the YAML form writes them, as text.
fn sorted_items(text: &str) -> String {
    let parsed = routerc::syntax::parse(text, routerc::syntax::FileId(0));
    let rank = |i: &routerc::syntax::ast::Item| {
        use routerc::syntax::ast::Item::*;
        match i {
            Include(_) | Select(_) => 0,
            Signal(_) => 1,
            Backend(_) => 2,
            Prompt(_) => 3,
            Route(_) => 4,
            Default(_) => 5,
            Test(_) => 6,
            Error(_) => 7,
        }
    };
    let mut items: Vec<_> = parsed.file.items.iter().collect();
    items.sort_by_key(|i| rank(i));
    items
        .iter()
        .map(|i| &text[i.span().range()])
        .collect::<Vec<_>>()
        .join("\n")
}

/// Random policies in `.route` syntax: conditions with every operator and nesting, every
/// action field, conditional values, strings with escapes, tests.
fn arbitrary_policy() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        Just("titan".to_string()),
        Just("not titan".to_string()),
        Just("titan == false".to_string()),
        (0.0f64..1.0).prop_map(|t| format!("jailbreak > {t:?}")),
        (0i64..5000).prop_map(|n| format!("tokens >= {n}")),
        Just("domain == math".to_string()),
        Just("domain in [math, \"in-between\"]".to_string()),
        Just("domain != law".to_string()),
        Just("domain.confidence < 0.5".to_string()),
        Just("domain[math] >= 0.25".to_string()),
        Just("ssn in pii".to_string()),
        Just("email not in pii".to_string()),
        Just("pii.count == 0".to_string()),
        "[a-z \\\\\"é]{0,8}".prop_map(|s| format!(
            "role == \"{}\"",
            s.replace('\\', "\\\\").replace('"', "\\\"")
        )),
        Just("role in [\"admin\", \"staff\"]".to_string()),
        Just("true".to_string()),
    ];
    let cond = atom.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(|v| v.join(" and ")),
            prop::collection::vec(inner.clone(), 2..4).prop_map(|v| v.join(" or ")),
            inner.clone().prop_map(|c| format!("not ({c})")),
            inner.prop_map(|c| format!("({c})")),
        ]
    });
    let field = prop_oneof![
        Just("reasoning_effort: high".to_string()),
        Just("max_tokens: 4096".to_string()),
        Just("temperature: 0.2".to_string()),
        Just("system_prompt: analyst".to_string()),
        Just("system_prompt: \"Be \\\"brief\\\".\\nThanks\"".to_string()),
        Just("system_prompt_mode: prepend".to_string()),
        Just("params: { seed: 7, stop: [\"\\n\"], response_format: { type: \"text\" }, logit_bias: null }".to_string()),
        Just("headers: { x_routed: \"yes\" }".to_string()),
        Just("upstream_headers: { x_priority: \"batch\" }".to_string()),
        Just("fallback: [big, small]".to_string()),
        Just("reasoning_effort: if tokens > 100 then high else if titan then medium else low".to_string()),
    ];
    let route = (
        cond,
        prop::option::of(-50i64..50),
        prop::collection::vec(field, 0..3),
        any::<bool>(),
    );
    prop::collection::vec(route, 1..6).prop_map(|routes| {
        let mut out = String::from(
            "signal titan: bool = keyword(\"Project Titan\", mode: substring)\n\
             signal jailbreak: score = classifier(\"jailbreak\", label: \"jailbreak\")\n\
             signal tokens: int = length.tokens(text: conversation)\n\
             signal domain: category(math, law, \"in-between\") = classifier(\"domain\")\n\
             signal pii: set(email, ssn) = token_classifier(\"pii\")\n\
             signal role: string = identity.role\n\
             backend small { url: \"http://127.0.0.1:8001/v1\", model: \"smollm2-135m\", timeout: 30s, connect_timeout: 250ms }\n\
             backend big { url: \"http://127.0.0.1:8002/v1\", model: \"big\", reasoning: enable_thinking }\n\
             prompt analyst = \"You are an analyst.\"\n",
        );
        for (i, (cond, priority, fields, reject)) in routes.iter().enumerate() {
            let priority = priority.map(|p| format!(" priority {p}")).unwrap_or_default();
            let mut seen = std::collections::HashSet::new();
            let fields: Vec<&String> = fields
                .iter()
                .filter(|f| seen.insert(f.split(':').next().unwrap_or("").to_string()))
                .collect();
            let action = if *reject {
                "reject 403 \"blocked \\u{2713}\"".to_string()
            } else {
                format!(
                    "big {{ {} }}",
                    fields.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", ")
                )
            };
            out.push_str(&format!("route r{i}{priority} when {cond} => {action}\n"));
        }
        out.push_str("default => small\n");
        out.push_str(
            "test \"t\" { given { domain: math @ 0.9, pii: [ssn], role: \"admin\", titan: absent } expect default { max_tokens: 10 } }\n",
        );
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// `.route` → routerc YAML → AST gives the same tree, and the two check to policies that
    /// make the same decisions.
    #[test]
    fn generated_policies_round_trip_through_yaml(text in arbitrary_policy(), seed in any::<u64>()) {
        let (a, b, yaml_text) = round_trip(&text).expect("generated policies parse");
        prop_assert_eq!(a, b, "changed through YAML:\n{}", yaml_text);
        let (_, checked) = routerc::check_text("generated.route", &text);
        if let Some(original) = checked.policy {
            let again = policy_of_text("generated.yaml", &yaml_text);
            same_decisions(&original, &again, seed, 50, "generated policy");
            // And back: YAML → .route gives the same text as formatting the original.
            let back = routerc::yaml::routerc::to_route(&yaml::parse(&yaml_text, routerc::syntax::FileId(0)).file, &[]);
            let reparsed = policy_of_text("back.route", &back);
            same_decisions(&original, &reparsed, seed, 50, "generated policy via YAML and back");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Corpus: broken YAML with snapshots; good YAML checks clean.

fn relative(path: &Path) -> PathBuf {
    path.strip_prefix(root()).unwrap_or(path).to_path_buf()
}

fn render_human(path: &Path) -> (String, usize) {
    let (program, checked) = routerc::check_file(&relative(path), &FileSystem);
    let diagnostics = checked.diagnostics.sorted();
    let mut out = Vec::new();
    render::write(
        &mut out,
        &program.sources,
        &diagnostics,
        Format::Human,
        false,
    )
    .expect("rendering to memory cannot fail");
    let mut text = String::from_utf8(out).expect("UTF-8");
    text.push_str(&render::summary(&diagnostics));
    text.push('\n');
    (
        text,
        checked
            .diagnostics
            .count(routerc::diagnostic::Severity::Error),
    )
}

#[test]
fn broken_yaml_policies() {
    let count = std::fs::read_dir(root().join("tests/yaml/err"))
        .expect("tests/yaml/err exists")
        .count();
    assert!(count >= 25, "the corpus holds {count} broken configs");
    insta::glob!("yaml/err/*.yaml", |path| {
        let (text, errors) = render_human(path);
        assert!(errors > 0, "{} has no error but is in err/", path.display());
        insta::assert_snapshot!(text);
    });
}

#[test]
fn good_yaml_policies_check_clean() {
    let dir = root().join("tests/yaml/ok");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("tests/yaml/ok exists") {
        let p = entry.expect("entry").path();
        let (program, checked) = routerc::check_file(&relative(&p), &FileSystem);
        assert!(
            checked.diagnostics.items.is_empty(),
            "{}:\n{}",
            p.display(),
            render_all(&program, &checked)
        );
        n += 1;
    }
    assert!(n > 0);
}

#[test]
fn yaml_examples_in_the_docs_check_clean() {
    let doc = std::fs::read_to_string(root().join("docs/yaml.md")).expect("docs/yaml.md");
    let mut blocks = Vec::new();
    let mut open: Option<String> = None;
    for line in doc.lines() {
        match (&mut open, line.trim_end()) {
            (None, "```yaml") => open = Some(String::new()),
            (Some(text), "```") => {
                blocks.push(std::mem::take(text));
                open = None;
            }
            (Some(text), l) => {
                text.push_str(l);
                text.push('\n');
            }
            _ => {}
        }
    }
    assert!(!blocks.is_empty());
    for text in blocks {
        let (program, checked) = routerc::check_text("doc.yaml", &text);
        assert!(
            checked.diagnostics.items.is_empty(),
            "a docs/yaml.md example does not check clean:\n{text}\n{}",
            render_all(&program, &checked)
        );
    }
}

// ---------------------------------------------------------------------------------------
// vLLM selection semantics.

const MODELS: &str = "
version: v0.3
providers:
  defaults: { default_model: small }
  models:
    - { name: small, backend_refs: [{ endpoint: '127.0.0.1:8001' }] }
    - { name: big, backend_refs: [{ endpoint: '127.0.0.1:8002' }] }
";

fn decision(config: &str, matched: &[&str]) -> String {
    let text = format!("{MODELS}{config}");
    let policy = policy_of_text("semantics.yaml", &text);
    let values: Vec<(String, SignalValue)> = matched
        .iter()
        .map(|m| (m.to_string(), SignalValue::Bool(true)))
        .collect();
    decide(&policy, &values)
}

const SIGNALS: &str = "
  signals:
    keywords:
      - { name: a, keywords: [alpha] }
      - { name: b, keywords: [beta] }
";

#[test]
fn priority_then_name_decides_without_tiers() {
    let config = format!(
        "routing:{SIGNALS}  decisions:
    - {{ name: zeta, priority: 10, rules: {{ operator: OR, conditions: [{{ type: keyword, name: a }}] }}, modelRefs: [{{ model: big }}] }}
    - {{ name: alpha, priority: 10, rules: {{ operator: OR, conditions: [{{ type: keyword, name: b }}] }}, modelRefs: [{{ model: big }}] }}
    - {{ name: high, priority: 20, rules: {{ operator: AND, conditions: [{{ type: keyword, name: a }}, {{ type: keyword, name: b }}] }}, modelRefs: [{{ model: big }}] }}
"
    );
    assert_eq!(decision(&config, &["a", "b"]), "high");
    // Equal priority: by name.
    assert_eq!(decision(&config, &["a"]), "zeta");
    assert_eq!(decision(&config, &["b"]), "alpha");
    assert_eq!(decision(&config, &[]), "default");
}

#[test]
fn tiers_come_before_priority_and_catch_alls_last_in_their_tier() {
    let config = format!(
        "routing:{SIGNALS}  decisions:
    - {{ name: tier2_high, priority: 100, tier: 2, rules: {{ operator: OR, conditions: [{{ type: keyword, name: a }}] }}, modelRefs: [{{ model: big }}] }}
    - {{ name: tier1_low, priority: 1, tier: 1, rules: {{ operator: OR, conditions: [{{ type: keyword, name: a }}] }}, modelRefs: [{{ model: big }}] }}
    - {{ name: tier1_catch_all, priority: 50, tier: 1, rules: {{ operator: AND }}, modelRefs: [{{ model: small }}] }}
    - {{ name: untiered, priority: 0, rules: {{ operator: OR, conditions: [{{ type: keyword, name: b }}] }}, modelRefs: [{{ model: big }}] }}
"
    );
    // Untiered decisions are tier 0: before tier 1.
    assert_eq!(decision(&config, &["a", "b"]), "untiered");
    // Tier 1 beats tier 2 whatever the priorities.
    assert_eq!(decision(&config, &["a"]), "tier1_low");
    // The catch-all takes what tier 1 has no real match for, ahead of tier 2.
    assert_eq!(decision(&config, &[]), "tier1_catch_all");
}

/// `strategy: confidence`: in the first tier with a match, the most confident decision wins
/// (a leaf's score, the mean for AND, the max for OR, 1.0 for NOT and keywords), then the
/// priority; the reference meaning and the native code agree.
#[test]
fn strategy_confidence_prefers_the_most_confident_match() {
    let path = root().join("tests/yaml/ok/vsr_confidence.yaml");
    let policy = policy_of(&path);
    assert_eq!(policy.selection, routerc::policy::Selection::Confidence);
    let engine = routerc::engine::CompiledPolicy::from_policy(&policy).expect("compiles");
    let domain = |math: f64| SignalValue::Category(vec![math, 1.0 - math]);
    let cases: Vec<(Vec<(&str, SignalValue)>, &str)> = vec![
        // science 0.7 against urgent_maths (0.7 + 1) / 2 = 0.85.
        (
            vec![("domain", domain(0.7)), ("urgent", SignalValue::Bool(true))],
            "urgent_maths",
        ),
        // science 0.7 against suspicious (0.9 + 1) / 2 = 0.95.
        (
            vec![
                ("domain", domain(0.7)),
                ("urgent", SignalValue::Bool(false)),
                ("suspicious_prompt", SignalValue::Number(0.9)),
            ],
            "suspicious",
        ),
        // science 0.99 (physics is the top label) against suspicious (0.6 + 1) / 2 = 0.8.
        (
            vec![
                ("domain", domain(0.01)),
                ("urgent", SignalValue::Bool(false)),
                ("suspicious_prompt", SignalValue::Number(0.6)),
            ],
            "science",
        ),
        // Equal confidence (0.75 each): the higher priority.
        (
            vec![
                ("domain", domain(0.75)),
                ("urgent", SignalValue::Bool(false)),
                ("suspicious_prompt", SignalValue::Number(0.5)),
            ],
            "science",
        ),
        // Nothing in the first tier: the second.
        (vec![("urgent", SignalValue::Bool(true))], "urgent_anything"),
        (vec![], "default"),
    ];
    for (values, expected) in cases {
        let named: Vec<(String, SignalValue)> = values
            .iter()
            .map(|(n, v)| (n.to_string(), v.clone()))
            .collect();
        assert_eq!(decide(&policy, &named), expected, "{values:?}");
        let frame = || {
            let mut frame = engine.frame();
            for (name, value) in &values {
                let s = engine.program().signal_index(name).expect("declared");
                frame.set(s, Some(value)).expect("fits");
            }
            frame
        };
        let mut choices = engine.choices();
        let route = engine.decide(
            &mut frame(),
            &mut routerc::engine::frame::NoSignals,
            &mut choices,
        );
        let int = engine.interpret(
            &mut frame(),
            &mut routerc::engine::frame::NoSignals,
            &mut choices,
        );
        assert_eq!(
            engine.program().routes[route].name,
            expected,
            "native: {values:?}"
        );
        assert_eq!(route, int, "interpreter: {values:?}");
    }
}

#[test]
fn not_and_nesting_lower_to_the_same_logic() {
    let config = format!(
        "routing:{SIGNALS}  decisions:
    - name: only_a
      priority: 5
      rules:
        operator: AND
        conditions:
          - {{ type: keyword, name: a }}
          - operator: NOT
            conditions:
              - operator: OR
                conditions: [{{ type: keyword, name: b }}]
      modelRefs: [{{ model: big }}]
"
    );
    assert_eq!(decision(&config, &["a"]), "only_a");
    assert_eq!(decision(&config, &["a", "b"]), "default");
}

#[test]
fn recipes_are_selected_by_the_requested_model() {
    let config = format!(
        "routing:{SIGNALS}  decisions:
    - {{ name: top, priority: 1, rules: {{ operator: OR, conditions: [{{ type: keyword, name: a }}] }}, modelRefs: [{{ model: big }}] }}
entrypoints:
  - {{ model_names: [fast], recipe: speed }}
recipes:
  - name: speed
    routing:
      signals:
        keywords: [{{ name: a, keywords: [alpha] }}]
      decisions:
        - {{ name: speedy, priority: 1, rules: {{ operator: OR, conditions: [{{ type: keyword, name: a }}] }}, modelRefs: [{{ model: small }}] }}
"
    );
    let text = format!("{MODELS}{config}");
    let policy = policy_of_text("recipes.yaml", &text);
    let names: Vec<&str> = policy.signals.iter().map(|s| s.name.as_str()).collect();
    let requested = names
        .iter()
        .find(|n| n.contains("requested_model"))
        .expect("a requested-model signal");
    let recipe_a = names
        .iter()
        .find(|n| n.starts_with("speed_"))
        .expect("the recipe's own keyword signal");
    let with_model = |m: &str, a: &str| {
        vec![
            (requested.to_string(), SignalValue::String(m.to_string())),
            (a.to_string(), SignalValue::Bool(true)),
        ]
    };
    assert_eq!(decide(&policy, &with_model("fast", recipe_a)), "speedy");
    assert_eq!(decide(&policy, &with_model("fast", "a")), "default");
    assert_eq!(decide(&policy, &with_model("auto", "a")), "top");
}

#[test]
fn complexity_levels_and_projection_bands_are_string_tests() {
    let text = format!(
        "{MODELS}routing:
  signals:
    complexity:
      - {{ name: needs, threshold: 0.5, hard: {{ candidates: [prove it] }}, easy: {{ candidates: [hi] }} }}
  projections:
    mappings:
      - {{ name: band, source: difficulty, method: threshold_bands, outputs: [{{ name: low, lt: 0.5 }}, {{ name: high, gte: 0.5 }}] }}
  decisions:
    - {{ name: hard_one, priority: 30, rules: {{ operator: AND, conditions: [{{ type: complexity, name: 'needs:hard' }}] }}, modelRefs: [{{ model: big }}] }}
    - {{ name: high_band, priority: 20, rules: {{ operator: AND, conditions: [{{ type: projection, name: high }}] }}, modelRefs: [{{ model: big }}] }}
    - {{ name: any_level, priority: 10, rules: {{ operator: AND, conditions: [{{ type: complexity, name: needs }}] }}, modelRefs: [{{ model: small }}] }}
"
    );
    let policy = policy_of_text("levels.yaml", &text);
    let with = |pairs: &[(&str, &str)]| -> Vec<(String, SignalValue)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), SignalValue::String(v.to_string())))
            .collect()
    };
    assert_eq!(decide(&policy, &with(&[("needs", "hard")])), "hard_one");
    assert_eq!(
        decide(&policy, &with(&[("needs", "easy"), ("band", "high")])),
        "high_band"
    );
    assert_eq!(
        decide(&policy, &with(&[("needs", "medium"), ("band", "low")])),
        "any_level"
    );
    // External signals are absent at run time: none of these routes fires.
    assert_eq!(decide(&policy, &[]), "default");
}

// ---------------------------------------------------------------------------------------
// Hostile input, generated.

fn codes(text: &str) -> Vec<&'static str> {
    let (_, checked) = routerc::check_text("hostile.yaml", text);
    checked
        .diagnostics
        .items
        .iter()
        .map(|d| d.code.id)
        .collect()
}

#[test]
fn a_fifty_megabyte_file_is_one_precise_error() {
    let line = "# padding to make the file large, as an attacker or a broken generator would\n";
    let text = line.repeat(50 * 1024 * 1024 / line.len() + 1);
    assert!(text.len() > 50 * 1024 * 1024);
    let (_, checked) = routerc::check_text("huge.yaml", &text);
    let ds = &checked.diagnostics.items;
    assert_eq!(ds.len(), 1, "{ds:?}");
    assert_eq!(ds[0].code.id, "E0402");
    assert_eq!(
        ds[0].message,
        format!(
            "the YAML file is {} bytes; the limit is 8388608",
            text.len()
        )
    );
}

#[test]
fn ten_thousand_levels_of_nesting_are_one_precise_error() {
    // In block style, 10,000 levels take 50 MB of indentation: the size limit stops it.
    let block: String = (0..10_000)
        .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
        .collect();
    assert_eq!(codes(&block), ["E0402"]);
    let block: String = (0..2_000)
        .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
        .collect();
    assert_eq!(codes(&block), ["E0403"]);
    let flow = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert_eq!(codes(&flow), ["E0403"]);
    let lists: String = (0..2_000)
        .map(|i| format!("{}- \n", " ".repeat(i * 2)))
        .collect();
    assert_eq!(codes(&lists), ["E0403"]);
}

#[test]
fn an_alias_bomb_is_one_precise_error() {
    let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 9].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    assert_eq!(codes(&text), ["E0402"]);
}

#[test]
fn convert_command_writes_route_and_yaml() {
    let config = shared().join("recipes/accuracy/config.yaml");
    let bin = env!("CARGO_BIN_EXE_routerc");
    let out = std::process::Command::new(bin)
        .args([
            "convert",
            config.to_str().expect("UTF-8 path"),
            "--to",
            "route",
        ])
        .output()
        .expect("routerc runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let route = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(
        route.contains("route accuracy_workflow priority 100"),
        "{route}"
    );
    let out = std::process::Command::new(bin)
        .args([
            "convert",
            config.to_str().expect("UTF-8 path"),
            "--to",
            "yaml",
        ])
        .output()
        .expect("routerc runs");
    assert_eq!(out.status.code(), Some(0));
    let yaml_text = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(yaml_text.contains("routes:"), "{yaml_text}");
    let broken = root().join("tests/yaml/err/unknown_model.yaml");
    let out = std::process::Command::new(bin)
        .args([
            "convert",
            broken.to_str().expect("UTF-8 path"),
            "--to",
            "route",
        ])
        .output()
        .expect("routerc runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("E0203"));
}

// ---------------------------------------------------------------------------------------
// Mutated YAML never panics, and every diagnostic renders.

fn yaml_seeds() -> Vec<String> {
    let mut out: Vec<String> = vsr_configs()
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("readable"))
        .collect();
    for dir in ["tests/yaml/ok", "tests/yaml/err"] {
        for entry in std::fs::read_dir(root().join(dir)).expect("corpus folder") {
            let p = entry.expect("entry").path();
            out.push(std::fs::read_to_string(&p).expect("readable"));
        }
    }
    out
}

fn yaml_fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(": ".to_string()),
        Just("- ".to_string()),
        Just("\n".to_string()),
        Just("\n  ".to_string()),
        Just("\t".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just("\"".to_string()),
        Just("'".to_string()),
        Just("&a ".to_string()),
        Just("*a".to_string()),
        Just("operator: NOT\n".to_string()),
        Just("type: keyword\n".to_string()),
        Just("when: a and (b or".to_string()),
        Just("---\n".to_string()),
        "[a-z_]{1,8}",
        any::<char>().prop_map(|c| c.to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn mutated_yaml_never_panics(
        seed in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0usize..12, yaml_fragment()), 1..6),
    ) {
        let seeds = yaml_seeds();
        let mut text = seeds[seed.index(seeds.len())].clone();
        for (at, delete, insert) in edits {
            let mut pos = at.index(text.len() + 1);
            while !text.is_char_boundary(pos) {
                pos -= 1;
            }
            let mut end = (pos + delete).min(text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            text.replace_range(pos..end, &insert);
        }
        let (program, checked) = routerc::check_text("mutated.yaml", &text);
        let diags = checked.diagnostics.sorted();
        let mut sink = Vec::new();
        for format in [Format::Human, Format::Plain, Format::Json] {
            render::write(&mut sink, &program.sources, &diags, format, false).expect("in-memory rendering");
        }
        // A mutated file that still checks converts, and the conversion checks too.
        if let Some(file) = program.files.first().filter(|_| checked.policy.is_some()) {
            let parsed = yaml::parse(&program.sources.get(file.id).text, file.id);
            let route = yaml::routerc::to_route(&parsed.file, &parsed.notes);
            let (_, again) = routerc::check_text("again.route", &route);
            prop_assert!(again.policy.is_some(), "the conversion does not check:\n{}", route);
        }
    }

    #[test]
    fn arbitrary_yaml_text_never_panics(text in "\\PC{0,300}") {
        let _ = routerc::check_text("input.yaml", &text);
    }
}
