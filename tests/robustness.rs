//! No input crashes the front end: invalid UTF-8, huge files, absurd nesting, random bytes and
//! random mutations of real policies all end in diagnostics, never a panic or a stack overflow.

use std::path::Path;

use proptest::prelude::*;
use routerc::source::SourceProvider;

/// Serves one in-memory file as any path, so byte-level inputs go through the real loader.
struct Bytes(Vec<u8>);

impl SourceProvider for Bytes {
    fn read(&self, _: &Path) -> std::io::Result<Vec<u8>> {
        Ok(self.0.clone())
    }
}

fn check_bytes(bytes: Vec<u8>) -> routerc::check::Checked {
    let (_, checked) = routerc::check_file(Path::new("input.route"), &Bytes(bytes));
    checked
}

fn codes(c: &routerc::check::Checked) -> Vec<&'static str> {
    c.diagnostics.items.iter().map(|d| d.code.id).collect()
}

#[test]
fn invalid_utf8_is_one_precise_error() {
    let c = check_bytes(b"signal a: bool = keyword(\"x\xff\")\n".to_vec());
    assert_eq!(codes(&c), ["E0001"]);
    assert_eq!(c.diagnostics.items[0].span.start, 27);
}

#[test]
fn hundred_thousand_nested_parentheses() {
    let depth = 100_000;
    let src = format!(
        "signal t: bool = keyword(\"x\")\nbackend b {{ url: \"http://127.0.0.1:1/v1\", model: \"m\" }}\nroute r when {}t{} => b\ndefault => b\n",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    let c = check_bytes(src.into_bytes());
    assert_eq!(codes(&c), ["E0006"], "one diagnostic for the whole nest");
}

#[test]
fn long_chains_of_not_and_if() {
    let nots = "not ".repeat(50_000);
    let ifs = "if t then ".repeat(20_000) + "high" + &" else low".repeat(20_000);
    let src = format!(
        "signal t: bool = keyword(\"x\")\nbackend b {{ url: \"http://127.0.0.1:1/v1\", model: \"m\" }}\nroute r when {nots}t => b {{ reasoning_effort: {ifs} }}\ndefault => b\n"
    );
    let c = check_bytes(src.into_bytes());
    assert!(codes(&c).iter().all(|&c| c == "E0006"), "{:?}", codes(&c));
    assert!(!c.diagnostics.items.is_empty());
}

#[test]
fn a_long_flat_condition_is_fine() {
    let atoms: Vec<String> = (0..20_000).map(|i| format!("n > {i}")).collect();
    let src = format!(
        "signal n: int = length.tokens\nbackend b {{ url: \"http://127.0.0.1:1/v1\", model: \"m\" }}\nroute r when {} => b\ndefault => b\n",
        atoms.join(" and ")
    );
    let c = check_bytes(src.into_bytes());
    assert!(c.policy.is_some(), "{:?}", codes(&c));
}

#[test]
fn ten_megabyte_policy() {
    let mut src = String::from(
        "signal domain: category(math, law, other) = classifier(\"domain\")\nsignal n: int = length.tokens\nbackend b { url: \"http://127.0.0.1:1/v1\", model: \"m\" }\n",
    );
    let mut i = 0;
    while src.len() < 10 * 1024 * 1024 {
        src.push_str(&format!(
            "route r{i} priority {} when domain == math and n > {i} => b {{ max_tokens: {} }}\n",
            i % 7,
            i + 1
        ));
        i += 1;
    }
    src.push_str("default => b\n");
    let c = check_bytes(src.into_bytes());
    assert!(
        !c.diagnostics.has_errors(),
        "{:?}",
        &codes(&c)[..codes(&c).len().min(5)]
    );
    assert!(c.policy.is_some());
}

#[test]
fn ten_megabytes_of_garbage() {
    // Deterministic pseudo-random bytes (xorshift), mostly printable, some invalid.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let bytes: Vec<u8> = (0..10 * 1024 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let b = (x >> 24) as u8;
            const ALPHABET: &[u8] = b" (){}[]=>:,.\"#\nabcdefroutesignal0123456789";
            if b < 200 {
                ALPHABET[(b as usize) % ALPHABET.len()]
            } else {
                b
            }
        })
        .collect();
    let c = check_bytes(bytes);
    assert!(c.diagnostics.has_errors());
}

/// Every `.route` file shipped with the project, as mutation seeds.
fn seeds() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in ["examples", "policies", "tests/check/ok", "tests/check/err"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for e in entries.flatten() {
            if e.path().extension().is_some_and(|x| x == "route") {
                if let Ok(text) = std::fs::read_to_string(e.path()) {
                    out.push(text);
                }
            }
        }
    }
    assert!(!out.is_empty(), "no policies found to mutate");
    out
}

/// A token-ish fragment to splice into a policy.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("(".to_string()),
        Just(")".to_string()),
        Just(" and ".to_string()),
        Just(" not ".to_string()),
        Just("=>".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just("\"".to_string()),
        Just("#".to_string()),
        Just("\n".to_string()),
        Just("route x when".to_string()),
        Just("default => ".to_string()),
        Just("if a then b else".to_string()),
        Just("@ 0.5".to_string()),
        Just(" in [".to_string()),
        Just("99999999999999999999".to_string()),
        "[a-z_]{1,8}",
        any::<char>().prop_map(|c| c.to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        let _ = routerc::check_text("input.route", &text);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = check_bytes(bytes);
    }

    #[test]
    fn mutated_policies_never_panic(
        seed in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0usize..6, fragment()), 1..6),
    ) {
        let seeds = seeds();
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
        let (program, checked) = routerc::check_text("mutated.route", &text);
        // Rendering must cope with every span the checker produced.
        let diags = checked.diagnostics.sorted();
        let mut sink = Vec::new();
        for format in [routerc::render::Format::Human, routerc::render::Format::Plain, routerc::render::Format::Json] {
            routerc::render::write(&mut sink, &program.sources, &diags, format, false).expect("in-memory rendering");
        }
    }
}

#[test]
fn include_chains_that_never_repeat_are_bounded() {
    // Every path serves this text, so `a/b`, `a/a/b`, … never repeat: no cycle, no end.
    let c = check_bytes(b"include \"a/b\"".to_vec());
    assert!(codes(&c).contains(&"E0010"), "{:?}", codes(&c));
}
