//! The checker's test corpus: every file under tests/check/err/ is a program with mistakes,
//! snapshotted with its rendered diagnostics (colour off); every file under tests/check/ok/,
//! examples/ and policies/ must check clean, without errors or warnings. Adding a case means
//! adding a file.

use std::path::{Path, PathBuf};

use routerc::render::{self, Format};
use routerc::source::FileSystem;

fn relative(path: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}

fn render(path: &Path, format: Format) -> (String, usize, usize) {
    let (program, checked) = routerc::check_file(&relative(path), &FileSystem);
    let diagnostics = checked.diagnostics.sorted();
    let mut out = Vec::new();
    render::write(&mut out, &program.sources, &diagnostics, format, false)
        .expect("rendering to memory cannot fail");
    let errors = checked
        .diagnostics
        .count(routerc::diagnostic::Severity::Error);
    let warnings = checked
        .diagnostics
        .count(routerc::diagnostic::Severity::Warning);
    let mut text = String::from_utf8(out).expect("diagnostics are UTF-8");
    text.push_str(&render::summary(&diagnostics));
    text.push('\n');
    (text, errors, warnings)
}

#[test]
fn invalid_programs() {
    insta::glob!("check/err/*.route", |path| {
        let (text, errors, warnings) = render(path, Format::Human);
        assert!(
            errors + warnings > 0,
            "{} checks clean but is in err/",
            path.display()
        );
        insta::assert_snapshot!(text);
    });
}

fn policy_files(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut found = Vec::new();
    let mut stack = vec![root];
    while let Some(d) = stack.pop() {
        for entry in
            std::fs::read_dir(&d).unwrap_or_else(|e| panic!("cannot read {}: {e}", d.display()))
        {
            let p = entry.expect("directory entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "route") {
                found.push(p);
            }
        }
    }
    found.sort();
    found
}

#[test]
fn valid_programs_check_clean() {
    let mut files = policy_files("tests/check/ok");
    files.extend(policy_files("examples"));
    files.extend(policy_files("policies"));
    assert!(
        files.len() >= 20,
        "expected at least 20 valid policies, found {}",
        files.len()
    );
    let mut failures = Vec::new();
    for f in &files {
        let (text, errors, warnings) = render(f, Format::Plain);
        if errors + warnings > 0 {
            failures.push(text);
        }
    }
    assert!(
        failures.is_empty(),
        "valid policies with diagnostics:\n{}",
        failures.join("\n")
    );
}

#[test]
fn plain_and_json_formats() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/check/formats.route");
    let (plain, _, _) = render(&path, Format::Plain);
    let (json, _, _) = render(&path, Format::Json);
    insta::assert_snapshot!("plain", plain);
    insta::assert_snapshot!("json", json);
    for line in json.lines().filter(|l| l.starts_with('{')) {
        let v: serde_json::Value = serde_json::from_str(line).expect("each JSON line is an object");
        for key in [
            "code", "severity", "message", "file", "start", "end", "help",
        ] {
            assert!(
                v.get(key).is_some(),
                "JSON diagnostic lacks `{key}`: {line}"
            );
        }
    }
}

#[test]
fn every_code_is_documented() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/diagnostics.md"))
            .expect("docs/diagnostics.md exists");
    for code in routerc::diagnostic::codes::ALL {
        assert!(
            doc.contains(&format!("## {}", code.id)),
            "docs/diagnostics.md does not document {}",
            code.id
        );
        assert!(
            doc.contains(code.doc),
            "docs/diagnostics.md's text for {} differs from the code table",
            code.id
        );
    }
}
