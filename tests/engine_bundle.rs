//! Compiled bundles: a round trip keeps every decision; a truncated, corrupted, tampered or
//! foreign file is an error with a clear message, never undefined behaviour.

use routerc::engine::bundle::{self, Contents};
use routerc::engine::frame::NoSignals;
use routerc::engine::ir::{Action, Program};
use routerc::engine::CompiledPolicy;

fn default_contents() -> Contents {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/default.route");
    let (sources, checked) = routerc::check_file(&path, &routerc::source::FileSystem);
    let policy = checked.policy.expect("the default policy checks");
    Contents {
        source_hash: bundle::source_hash(&sources.sources),
        sources: vec!["default.route".into()],
        program: routerc::engine::ir::lower(&policy),
    }
}

/// Writes a bundle around an arbitrary (possibly invalid) program, with a valid checksum.
fn sealed(program: Program) -> Vec<u8> {
    let mut c = default_contents();
    c.program = program;
    bundle::write(&c)
}

#[test]
fn round_trip_keeps_the_program() {
    let contents = default_contents();
    let bytes = bundle::write(&contents);
    let back = bundle::read(&bytes).expect("reads back");
    assert_eq!(back, contents);
    let engine = CompiledPolicy::new(back.program).expect("compiles");
    let mut frame = engine.frame();
    let mut choices = engine.choices();
    let route = engine.decide(&mut frame, &mut NoSignals, &mut choices);
    assert_eq!(engine.program().routes[route].name, "default");
}

#[test]
fn every_truncation_is_refused() {
    let bytes = bundle::write(&default_contents());
    for len in 0..bytes.len() {
        let err = bundle::read(&bytes[..len]).expect_err("a truncated bundle must not load");
        assert!(
            err.0.contains("truncated") || err.0.contains("not a routerc bundle"),
            "at {len}: {err}"
        );
    }
}

#[test]
fn every_corrupted_byte_is_refused() {
    let bytes = bundle::write(&default_contents());
    for at in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[at] ^= 0x20;
        assert!(bundle::read(&bad).is_err(), "a flipped byte at {at} loaded");
    }
}

#[test]
fn messages() {
    let good = bundle::write(&default_contents());
    let mut other_version = good.clone();
    other_version[8..12].copy_from_slice(&99u32.to_le_bytes());
    let mut longer = good.clone();
    longer.extend_from_slice(b"junk");
    let mut flipped = good.clone();
    let last = flipped.len() - 2;
    flipped[last] ^= 1;

    let mut bad_backend = default_contents().program;
    if let Action::Forward(f) = &mut bad_backend.routes[2].action {
        f.backend = 42;
    }
    let mut bad_label = default_contents().program;
    bad_label.signals[2].ty = routerc::policy::Type::Category(vec!["only".into()]);
    let mut no_default = default_contents().program;
    no_default.routes.pop();

    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("policy source", b"route a when x => b\n".to_vec()),
        ("other format version", other_version),
        ("bytes after the payload", longer),
        ("checksum mismatch", flipped),
        ("backend out of range", sealed(bad_backend)),
        ("label out of range", sealed(bad_label)),
        ("no default route", sealed(no_default)),
    ];
    let mut out = String::new();
    for (name, bytes) in cases {
        let err = bundle::read(&bytes).expect_err(name);
        out.push_str(&format!("{name}:\n  {err}\n"));
    }
    let out = out.replace(env!("CARGO_PKG_VERSION"), "VERSION");
    insta::assert_snapshot!(out);
}
