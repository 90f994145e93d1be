//! Feeds arbitrary bytes to the YAML frontend as a `.yaml` policy (load, lower, check),
//! renders the diagnostics in every format, and, for input that checks, converts it to
//! `.route` and to routerc YAML and checks that both conversions check and decide alike.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use routerc::render::{self, Format};
use routerc::source::SourceProvider;

/// Serves the fuzz input as the root file; includes are not followed (the `.route` target
/// covers include handling).
struct Bytes<'a>(&'a [u8]);

impl SourceProvider for Bytes<'_> {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        if path == Path::new("fuzz.yaml") {
            Ok(self.0.to_vec())
        } else {
            Err(std::io::ErrorKind::NotFound.into())
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let (program, checked) = routerc::check_file(Path::new("fuzz.yaml"), &Bytes(data));
    let diagnostics = checked.diagnostics.sorted();
    for format in [Format::Human, Format::Plain, Format::Json] {
        let mut out = Vec::new();
        render::write(&mut out, &program.sources, &diagnostics, format, false)
            .expect("writing to a Vec cannot fail");
    }
    let Some(policy) = checked.policy else { return };
    let Some(file) = program.files.first() else { return };
    let parsed = routerc::yaml::parse(&program.sources.get(file.id).text, file.id);
    let route = routerc::yaml::routerc::to_route(&parsed.file, &parsed.notes);
    let (_, as_route) = routerc::check_text("converted.route", &route);
    let as_route = as_route
        .policy
        .unwrap_or_else(|| panic!("the .route conversion does not check:\n{route}"));
    let yaml = routerc::yaml::routerc::to_yaml(&parsed.file);
    let (_, as_yaml) = routerc::check_text("converted.yaml", &yaml);
    let as_yaml = as_yaml
        .policy
        .unwrap_or_else(|| panic!("the YAML conversion does not check:\n{yaml}"));
    let names = |p: &routerc::policy::Policy| -> Vec<String> {
        p.routes.iter().map(|r| format!("{} {}", r.name, r.priority)).collect()
    };
    assert_eq!(names(&policy), names(&as_route), "route order changed in .route");
    assert_eq!(names(&policy), names(&as_yaml), "route order changed in YAML");
});
