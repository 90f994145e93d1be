//! The reference model fixtures of the shared data folder (`$ROUTERC_SHARED` or `../shared`)
//! linked into a temporary folder under the names policies use (`domain`, `jailbreak`, `pii`,
//! `embed`), so that tests find them through `--models` or `ROUTERC_MODELS`. Tests fail
//! loudly when the shared folder is missing: `.ci/run` provides it.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// `data/fixtures` of the shared folder.
pub fn shared_fixtures() -> PathBuf {
    let shared = std::env::var_os("ROUTERC_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let fixtures = shared.join("data/fixtures");
    assert!(
        fixtures.is_dir(),
        "the shared data folder is missing: expected {} (set ROUTERC_SHARED to the folder that \
         holds data/fixtures)",
        fixtures.display()
    );
    fixtures
}

/// A folder of model directories named as the test policies name them; made once per test
/// process.
pub fn fixture_models() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let fixtures = shared_fixtures();
        let dir = std::env::temp_dir().join(format!("routerc-test-models-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        for (name, fixture) in [
            ("domain", "modernbert-domain"),
            ("jailbreak", "mmbert-style-jailbreak"),
            ("pii", "modernbert-pii"),
            ("embed", "bert-embed"),
        ] {
            let link = dir.join(name);
            if !link.exists() {
                std::os::unix::fs::symlink(fixtures.join(fixture), &link).expect("symlink");
            }
        }
        dir
    })
}
