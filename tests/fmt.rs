//! The formatter on files: snapshots of the fixtures in tests/fmt/, every policy in the
//! repository, and generated policies (property tests).
//!
//! For every input that parses, formatting must be idempotent, keep the meaning (the same AST
//! up to spans) and keep every comment, in order.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use routerc::fmt::{format_file, format_source, shape};
use routerc::syntax::lexer::lex;
use routerc::syntax::{parse, FileId};

/// Formats `src` and checks the three invariants; returns the formatted text.
fn check(src: &str, what: &str) -> String {
    let out = format_source(src).unwrap_or_else(|e| panic!("{what}: {e}\n{src}"));
    let again = format_source(&out).unwrap_or_else(|e| panic!("{what}: second pass: {e}\n{out}"));
    assert_eq!(again, out, "{what}: formatting is not idempotent");
    let before = parse(src, FileId(0));
    let after = parse(&out, FileId(0));
    assert_eq!(
        shape(&after.file),
        shape(&before.file),
        "{what}: the AST changed"
    );
    assert_eq!(
        texts(&after.comments),
        texts(&before.comments),
        "{what}: comments changed"
    );
    out
}

fn texts(comments: &[routerc::syntax::lexer::Comment]) -> Vec<&str> {
    comments.iter().map(|c| c.text.as_str()).collect()
}

#[test]
fn fixtures() {
    insta::glob!("fmt/*.route", |path| {
        let src = std::fs::read_to_string(path).expect("fixture is readable");
        insta::assert_snapshot!(check(&src, &path.display().to_string()));
    });
}

/// Every `.route` file of the repository that parses formats to a fixed point.
#[test]
fn every_policy_in_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["examples", "policies", "tests"] {
        collect_routes(&root.join(dir), &mut files);
    }
    assert!(!files.is_empty(), "the fixtures in tests/fmt/ at least");
    for file in files {
        let src = std::fs::read_to_string(&file).unwrap_or_default();
        let parsed = parse(&src, FileId(0));
        if parsed
            .diagnostics
            .iter()
            .any(|d| d.severity() == routerc::diagnostic::Severity::Error)
        {
            continue;
        }
        check(&src, &file.display().to_string());
    }
}

fn collect_routes(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_routes(&path, out);
        } else if path.extension().is_some_and(|e| e == "route") {
            out.push(path);
        }
    }
}

// ---- property tests -----------------------------------------------------------------------

const EXAMPLE: &str = include_str!("fmt/example.route");

/// What goes between two tokens: whitespace of all sorts, or a comment (numbered later).
const GAPS: &[&str] = &[
    " ", " ", " ", "  ", "\n", "\n\n\n", "\t", "\n  ", " #\n", "\n#\n",
];

/// `src` with the whitespace between its tokens replaced by `gaps` (cycled), the original
/// comments dropped, and each `#` of a gap made into a comment `# cN`. Returns the text and
/// the comments it holds, in order.
fn respace(src: &str, gaps: &[usize]) -> (String, Vec<String>) {
    let tokens = lex(src, FileId(0)).tokens;
    let mut out = String::new();
    let mut comments = Vec::new();
    for (i, (start, _, end)) in tokens.iter().enumerate() {
        let gap = GAPS[gaps.get(i % gaps.len().max(1)).copied().unwrap_or(0) % GAPS.len()];
        for part in gap.split_inclusive('#') {
            out.push_str(part);
            if part.ends_with('#') {
                let text = format!("# c{}", comments.len());
                out.push_str(&text[1..]);
                comments.push(text);
            }
        }
        out.push_str(&src[*start..*end]);
    }
    (out, comments)
}

fn name() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "a",
        "domain",
        "prompt_tokens",
        "math",
        "high",
        "llama8b",
        "an_unusually_long_name_that_pushes_lines_past_the_width",
    ])
    .prop_map(str::to_string)
}

fn string() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        r#""plain""#,
        r#""with \"quotes\" and \\ backslash""#,
        r#""tab\there\n""#,
        r##""# not a comment""##,
        r#""é ✓ \u{41}""#,
        r#""a fairly long string literal that takes up a good part of the line on its own""#,
    ])
    .prop_map(str::to_string)
}

fn number() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "0", "42", "-7", "1_000", "0.5", "2.50", "-0.125", "1e3", "1_0.5", "3E-2",
    ])
    .prop_map(str::to_string)
}

fn float() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["0.9", "0.50", "1e-1", "1.0"]).prop_map(str::to_string)
}

fn operand() -> impl Strategy<Value = String> {
    prop_oneof![
        name(),
        (name(), name()).prop_map(|(a, b)| format!("{a}.{b}")),
        (name(), name()).prop_map(|(a, b)| format!("{a}[{b}]")),
        string(),
        number(),
        Just("true".to_string()),
        Just("false".to_string()),
    ]
}

fn condition() -> impl Strategy<Value = String> {
    let op = prop::sample::select(vec!["==", "!=", "<", "<=", ">", ">="]);
    let leaf = prop_oneof![
        name(),
        (operand(), op, operand()).prop_map(|(a, op, b)| format!("{a} {op} {b}")),
        (
            operand(),
            any::<bool>(),
            prop::collection::vec(operand(), 0..4)
        )
            .prop_map(|(a, not, set)| format!(
                "{a} {}in [{}]",
                if not { "not " } else { "" },
                set.join(", ")
            )),
        (operand(), name()).prop_map(|(a, s)| format!("{a} in {s}")),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..5).prop_map(|v| v.join(" and ")),
            prop::collection::vec(inner.clone(), 2..5).prop_map(|v| v.join(" or ")),
            inner.clone().prop_map(|c| format!("not {c}")),
            inner.prop_map(|c| format!("({c})")),
        ]
    })
}

fn value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        string(),
        number(),
        name(),
        prop::sample::select(vec![
            "250ms", "30s", "2m", "1500ms", "60000ms", "0s", "true"
        ])
        .prop_map(str::to_string),
        (name(), float()).prop_map(|(n, f)| format!("{n} @ {f}")),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            fields(inner.clone()).prop_map(|f| format!("{{{f}}}")),
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
            (condition(), inner.clone(), inner)
                .prop_map(|(c, a, b)| format!("if {c} then {a} else {b}")),
        ]
    })
}

fn fields(value: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    prop::collection::vec((name(), value), 0..5).prop_map(|fs| {
        fs.iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    })
}

fn action() -> impl Strategy<Value = String> {
    prop_oneof![
        (name(), fields(value())).prop_map(|(b, f)| format!("{b} {{ {f} }}")),
        name(),
        string().prop_map(|s| format!("reject 403 {s}")),
    ]
}

fn item() -> impl Strategy<Value = String> {
    let label = prop_oneof![name(), string()];
    let ty = prop_oneof![
        prop::sample::select(vec!["bool", "score", "int", "string"]).prop_map(str::to_string),
        (
            prop::sample::select(vec!["category", "set"]),
            prop::collection::vec(label, 0..20)
        )
            .prop_map(|(t, ls)| format!("{t}({})", ls.join(", "))),
    ];
    let arg = prop_oneof![
        value(),
        (name(), value()).prop_map(|(n, v)| format!("{n}: {v}"))
    ];
    let extractor = prop_oneof![
        (name(), name()).prop_map(|(a, b)| format!("{a}.{b}")),
        (name(), prop::collection::vec(arg, 0..4))
            .prop_map(|(n, args)| format!("{n}({})", args.join(", "))),
    ];
    prop_oneof![
        (name(), ty, extractor).prop_map(|(n, t, e)| format!("signal {n}: {t} = {e}")),
        (name(), fields(value())).prop_map(|(n, f)| format!("backend {n} {{ {f} }}")),
        (name(), string()).prop_map(|(n, s)| format!("prompt {n} = {s}")),
        (name(), prop::option::of(number()), condition(), action()).prop_map(|(n, p, c, a)| {
            let p = p
                .filter(|p| !p.contains(['.', 'e', 'E']))
                .map(|p| format!(" priority {p}"))
                .unwrap_or_default();
            format!("route {n}{p} when {c} => {a}")
        }),
        action().prop_map(|a| format!("default => {a}")),
        (string(), fields(value()), name(), fields(value())).prop_map(|(s, g, e, f)| format!(
            "test {s} {{ given {{ {g} }} expect {e} {{ {f} }} }}"
        )),
        string().prop_map(|s| format!("include {s}")),
    ]
}

fn policy() -> impl Strategy<Value = String> {
    prop::collection::vec(item(), 0..8).prop_map(|items| items.join("\n"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The example, re-spaced and commented at random between its tokens.
    #[test]
    fn respaced_example(gaps in prop::collection::vec(0..GAPS.len(), 1..600)) {
        let (src, comments) = respace(EXAMPLE, &gaps);
        let out = check(&src, "re-spaced example");
        prop_assert_eq!(shape(&parse(&out, FileId(0)).file), shape(&parse(EXAMPLE, FileId(0)).file));
        let after: Vec<String> = parse(&out, FileId(0)).comments.into_iter().map(|c| c.text).collect();
        prop_assert_eq!(after, comments);
    }

    /// Generated policies, re-spaced and commented at random.
    #[test]
    fn generated_policies(policy in policy(), gaps in prop::collection::vec(0..GAPS.len(), 1..300)) {
        let parsed = parse(&policy, FileId(0));
        prop_assume!(parsed.diagnostics.iter().all(|d| d.severity() != routerc::diagnostic::Severity::Error));
        let (src, comments) = respace(&policy, &gaps);
        let out = check(&src, "generated policy");
        let after: Vec<String> = parse(&out, FileId(0)).comments.into_iter().map(|c| c.text).collect();
        prop_assert_eq!(after, comments);
    }

    /// Whatever the bytes, formatting returns (an error or text) without panicking, and the
    /// language server's path (`format_file` on a tree with errors) keeps every comment.
    #[test]
    fn arbitrary_text_never_panics(src in "[ -~\\n\\t#\"{}()\\[\\]é]{0,200}") {
        let _ = format_source(&src);
        let parsed = parse(&src, FileId(0));
        let out = format_file(&parsed.file, &parsed.comments, &src);
        for c in &parsed.comments {
            prop_assert!(out.contains(&c.text), "lost {:?}", c.text);
        }
    }

    /// Policy-shaped text with random tokens deleted: mostly broken files, as in an editor.
    #[test]
    fn broken_policies_never_panic(policy in policy(), cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..4)) {
        let mut tokens = lex(&policy, FileId(0)).tokens;
        for cut in cuts {
            if !tokens.is_empty() {
                tokens.remove(cut.index(tokens.len()));
            }
        }
        let src: Vec<&str> = tokens.iter().map(|(s, _, e)| &policy[*s..*e]).collect();
        let src = src.join(" ");
        let _ = format_source(&src);
        let parsed = parse(&src, FileId(0));
        let _ = format_file(&parsed.file, &parsed.comments, &src);
    }
}
