use super::*;

/// Formats `src`, checking that it formats and that formatting again changes nothing.
fn fmt(src: &str) -> String {
    let out = format_source(src).unwrap_or_else(|e| panic!("{e}:\n{src}"));
    let again = format_source(&out).unwrap_or_else(|e| panic!("{e}:\n{out}"));
    assert_eq!(again, out, "not idempotent; first pass:\n{out}");
    out
}

#[test]
fn a_declaration_that_fits_is_one_line() {
    assert_eq!(
        fmt("signal   jailbreak :score=classifier( \"jailbreak\" ,label:\"jailbreak\" )"),
        "signal jailbreak: score = classifier(\"jailbreak\", label: \"jailbreak\")\n"
    );
    assert_eq!(
        fmt("backend llama8b{url:\"http://x/v1\",model:\"m\",}"),
        "backend llama8b { url: \"http://x/v1\", model: \"m\" }\n"
    );
    assert_eq!(fmt("prompt  p =\n \"hi\""), "prompt p = \"hi\"\n");
    assert_eq!(fmt("include   \"a.route\""), "include \"a.route\"\n");
    assert_eq!(fmt("default=>b{x:1}"), "default => b { x: 1 }\n");
}

#[test]
fn a_route_always_breaks_before_the_arrow() {
    assert_eq!(
        fmt("route r priority 10 when a > 0.5 => b { x: 1 }"),
        "route r priority 10 when a > 0.5\n  => b { x: 1 }\n"
    );
    assert_eq!(
        fmt("route r when a => reject 403 \"no\""),
        "route r when a\n  => reject 403 \"no\"\n"
    );
}

#[test]
fn empty_braces_after_a_backend_are_dropped() {
    assert_eq!(fmt("default => b {}"), "default => b\n");
    assert_eq!(fmt("backend b {}"), "backend b {}\n");
}

#[test]
fn a_block_that_does_not_fit_has_one_field_per_line() {
    let src = "default => some_backend { system_prompt: analyst, reasoning_effort: high, max_tokens: 4096, temperature: 0.2 }";
    assert_eq!(
        fmt(src),
        "default => some_backend {\n  system_prompt: analyst,\n  reasoning_effort: high,\n  max_tokens: 4096,\n  temperature: 0.2,\n}\n"
    );
    let route = "route r when x => some_backend { system_prompt: analyst, reasoning_effort: high, max_tokens: 4096, temperature: 0.2 }";
    assert_eq!(
        fmt(route),
        "route r when x\n  => some_backend {\n    system_prompt: analyst,\n    reasoning_effort: high,\n    max_tokens: 4096,\n    temperature: 0.2,\n  }\n"
    );
}

#[test]
fn a_long_condition_breaks_before_top_level_operators() {
    let src = "route r when domain == computer_science and domain.confidence > 0.75 and prompt_tokens > 2000 or titan => b";
    assert_eq!(
        fmt(src),
        "route r when domain == computer_science and domain.confidence > 0.75 and prompt_tokens > 2000\n    or titan\n  => b\n"
    );
    let src = "route r when domain_of_the_request == computer_science and domain.confidence > 0.75 and prompt_tokens > 2000 => b";
    assert_eq!(
        fmt(src),
        "route r when domain_of_the_request == computer_science\n    and domain.confidence > 0.75\n    and prompt_tokens > 2000\n  => b\n"
    );
}

#[test]
fn parentheses_and_negations_are_kept() {
    assert_eq!(
        fmt("route r when not(a or b)and ( c ) and x not in [ a,b ] and y in s => b"),
        "route r when not (a or b) and (c) and x not in [a, b] and y in s\n  => b\n"
    );
}

#[test]
fn long_label_lists_fill_aligned_after_the_paren() {
    let src = "signal domain: category(biology, business, chemistry, computer_science, economics,
        engineering, health, history, law, math, other, philosophy, physics, psychology, \"social science\") = classifier(\"domain\")";
    assert_eq!(
        fmt(src),
        "signal domain: category(biology, business, chemistry, computer_science, economics, engineering,
                        health, history, law, math, other, philosophy, physics, psychology,
                        \"social science\") = classifier(\"domain\")\n"
    );
}

#[test]
fn numbers_durations_and_strings_are_canonical() {
    assert_eq!(
        fmt("backend b { a: 1_000, b: 1e3, c: 0.50, d: -2, e: 120s, f: 1500ms, g: 60000ms, h: 0ms, i: 90s, j: \"t\\u{41}\\u{1}\" }"),
        "backend b {\n  a: 1000,\n  b: 1000.0,\n  c: 0.5,\n  d: -2,\n  e: 2m,\n  f: 1500ms,\n  g: 1m,\n  h: 0s,\n  i: 90s,\n  j: \"tA\\u{1}\",\n}\n"
    );
}

#[test]
fn floats_read_back_as_the_same_value() {
    for v in [0.1, 1.0, 1e-7, 1e21, 123456.789, -0.5, 0.30000000000000004] {
        let text = decl::float(v);
        assert!(text.contains('.') || text.contains('e'), "{text}");
        assert_eq!(text.parse::<f64>().ok(), Some(v));
    }
}

#[test]
fn blank_lines_are_kept_collapsed_and_added_between_kinds() {
    let src = "\n\n# head\nsignal a: bool = x\n\n\n\nsignal b: bool = y\nsignal c: bool = z\nbackend k { url: \"u\" }\nroute r when a => k\ndefault => k\n";
    assert_eq!(
        fmt(src),
        "# head\nsignal a: bool = x\n\nsignal b: bool = y\nsignal c: bool = z\n\nbackend k { url: \"u\" }\n\nroute r when a\n  => k\ndefault => k\n"
    );
}

#[test]
fn a_test_block_is_multi_line() {
    assert_eq!(
        fmt("test \"t\" { given { domain: math @ 0.9, n: 3000 } expect math { effort: high } }"),
        "test \"t\" {\n  given { domain: math @ 0.9, n: 3000 }\n  expect math { effort: high }\n}\n"
    );
    assert_eq!(
        fmt("test \"t\" { given { } expect default {} }"),
        "test \"t\" {\n  given {}\n  expect default\n}\n"
    );
}

#[test]
fn values_nest() {
    assert_eq!(
        fmt("default => b { m: {a: [1, 2], b: {}}, e: if n > 2 then high else low }"),
        "default => b { m: { a: [1, 2], b: {} }, e: if n > 2 then high else low }\n"
    );
}

#[test]
fn leading_and_trailing_comments_stay() {
    let src = "# one\n# two\nsignal a: bool = x   # trailing\n# end";
    assert_eq!(
        fmt(src),
        "# one\n# two\nsignal a: bool = x # trailing\n# end\n"
    );
}

#[test]
fn comments_in_a_block_keep_their_field() {
    let src =
        "backend b { url: \"u\", # the url\n  # the model\n  model: \"m\" # last\n  # dangling\n}";
    assert_eq!(
        fmt(src),
        "backend b {\n  url: \"u\", # the url\n  # the model\n  model: \"m\", # last\n  # dangling\n}\n"
    );
}

#[test]
fn comments_in_a_label_list_keep_their_label() {
    let src = "signal d: category(a, # first\n b,\n # before c\n c) = classifier(\"d\")";
    assert_eq!(
        fmt(src),
        "signal d: category(a, # first\n                   b,\n                   # before c\n                   c) = classifier(\"d\")\n"
    );
}

#[test]
fn comments_in_a_condition_and_before_the_arrow() {
    let src = "route r when a # why a\n and b\n # why this backend\n => k";
    assert_eq!(
        fmt(src),
        "route r when a # why a\n    and b\n  # why this backend\n  => k\n"
    );
    let src = "route r when a and b # both\n => k";
    assert_eq!(fmt(src), "route r when a and b # both\n  => k\n");
}

#[test]
fn comments_where_no_layout_can_hold_them_go_above() {
    let src = "signal # odd\n a: bool = x\nroute r when a > # odd too\n 1 => k";
    assert_eq!(
        fmt(src),
        "# odd\nsignal a: bool = x\n\n# odd too\nroute r when a > 1\n  => k\n"
    );
    // Hoisting keeps the order: the comment before the hoisted one goes up with it.
    let src = "route r when a # first\n and b > # second\n 1 => k";
    assert_eq!(
        fmt(src),
        "# first\n# second\nroute r when a and b > 1\n  => k\n"
    );
}

#[test]
fn comments_in_a_test_block() {
    let src = "test \"t\" { # about given\n given { a: 1 } # after given\n # before expect\n expect r # after expect\n # end\n }";
    assert_eq!(
        fmt(src),
        "test \"t\" {\n  # about given\n  given { a: 1 } # after given\n  # before expect\n  expect r # after expect\n  # end\n}\n"
    );
}

#[test]
fn a_file_of_comments_only() {
    assert_eq!(fmt("# a\n\n\n# b"), "# a\n\n# b\n");
    assert_eq!(fmt(""), "");
    assert_eq!(fmt("  \n\n"), "");
}

#[test]
fn a_file_with_syntax_errors_is_not_formatted() {
    let err = format_source("signal a: = x").unwrap_err();
    assert!(matches!(err, FormatError::Syntax(ref d) if !d.is_empty()));
    assert_eq!(err.to_string(), "cannot format a file with a syntax error");
}

#[test]
fn format_file_copies_declarations_that_did_not_parse() {
    let src = "signal a : bool = x\nroute oops when => # why\nbackend   b { url: \"u\" }\n";
    let parsed = parse(src, FileId(0));
    assert!(!parsed.diagnostics.is_empty());
    let out = format_file(&parsed.file, &parsed.comments, src);
    assert_eq!(
        out,
        "signal a: bool = x\n\nroute oops when => # why\n\nbackend b { url: \"u\" }\n"
    );
}

#[test]
fn never_panics_on_odd_input() {
    let inputs = [
        "\u{FEFF}signal a: bool = x",
        "route",
        "}}}{{{",
        "# only\r\n",
        "test \"t\" { given { a: [ } expect }",
        "signal a: category(",
        "\"unterminated",
        "default => b { a: if x then y }",
        "route r when ((((a)))) => b\r\n",
        "é # ü\n",
    ];
    for src in inputs {
        let _ = format_source(src);
        let parsed = parse(src, FileId(0));
        let _ = format_file(&parsed.file, &parsed.comments, src);
        // A mismatched source (an editor buffer that changed under us) must not panic either.
        let _ = format_file(&parsed.file, &parsed.comments, "");
    }
}

#[test]
fn shape_ignores_spans_only() {
    let a = parse("route r when a > 1 => b", FileId(0)).file;
    let b = parse("route   r\nwhen a>1\n=>b", FileId(0)).file;
    let c = parse("route r when a > 2 => b", FileId(0)).file;
    assert_eq!(shape(&a), shape(&b));
    assert_ne!(shape(&a), shape(&c));
    assert!(!shape(&a).contains("start"));
}
