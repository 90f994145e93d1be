//! Feeds arbitrary bytes to the whole front end (load, parse, check), renders the diagnostics
//! in every format, and checks that the formatter is idempotent on whatever it accepts.
#![no_main]

use std::cell::Cell;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use routerc::render::{self, Format};
use routerc::source::SourceProvider;

/// How many reads the provider answers before it reports `NotFound`. The loader follows
/// `include`s until it sees a path twice, and every `include "dir/x"` names a new path
/// (`dir/x`, `dir/dir/x`, ...), so a provider that answers every path without a budget never
/// lets `include "a/b"` finish (the loader recurses until the stack overflows; see README.md).
/// A budget keeps includes, diamonds, cycles and unreadable includes (E0007) in reach while
/// letting the fuzzer get past that known finding. Set to `usize::MAX` to reproduce it.
const MAX_READS: usize = 8;

/// Serves the fuzz input as the contents of every path (the root file and any include), for
/// the first [`MAX_READS`] reads.
struct Bytes<'a> {
    data: &'a [u8],
    reads: Cell<usize>,
}

impl SourceProvider for Bytes<'_> {
    fn read(&self, _path: &Path) -> std::io::Result<Vec<u8>> {
        let n = self.reads.get();
        if n >= MAX_READS {
            return Err(std::io::ErrorKind::NotFound.into());
        }
        self.reads.set(n + 1);
        Ok(self.data.to_vec())
    }
}

fuzz_target!(|data: &[u8]| {
    let provider = Bytes { data, reads: Cell::new(0) };
    let (program, checked) = routerc::check_file(Path::new("fuzz.route"), &provider);
    let diagnostics = checked.diagnostics.sorted();
    for format in [Format::Human, Format::Plain, Format::Json] {
        let mut out = Vec::new();
        render::write(&mut out, &program.sources, &diagnostics, format, false)
            .expect("writing to a Vec cannot fail");
    }

    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(once) = routerc::fmt::format_source(text) {
            match routerc::fmt::format_source(&once) {
                Ok(twice) => assert_eq!(once, twice, "formatting is not idempotent"),
                Err(e) => panic!("formatted output cannot be formatted again: {e}\n--- output ---\n{once}"),
            }
        }
    }
});
