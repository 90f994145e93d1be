//! Which model directory a name in a policy means, and loading each directory once per
//! process.
//!
//! A model name resolves, first match wins:
//!
//! 1. an alias is replaced: `minilm` is `all-MiniLM-L6-v2`;
//! 2. a name containing `/` (or an absolute path) is a directory relative to the policy
//!    file's directory;
//! 3. otherwise `NAME` is looked up as a directory in the model search path, in order: each
//!    `--models DIR` given on the command line, each directory of `ROUTERC_MODELS`
//!    (separated like `PATH`), `models/` beside the policy file, `models/` in the policy
//!    file's parent directory, and `models/` in the current directory.
//!
//! Loaded models are kept in a [`ModelCache`] keyed by canonical path: the weights are
//! memory-mapped once and shared (`Arc`) by every signal, request and reloaded policy that
//! names the same directory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use routerc_models::{LoadOptions, Model, ModelError, Truncation};

/// Names that stand for a directory name.
pub const ALIASES: &[(&str, &str)] = &[("minilm", "all-MiniLM-L6-v2")];

/// The longest text a model reads, in tokens, special tokens included (less when the model's
/// own limit is lower).
pub const MAX_TOKENS: usize = 512;
/// Of a longer text, the first this many tokens are kept, the rest of the budget from its end.
pub const HEAD_TOKENS: usize = 128;

/// Where model names are looked up besides the policy's own folders.
#[derive(Clone, Debug, Default)]
pub struct ModelSearch {
    /// `--models` directories, then `ROUTERC_MODELS`.
    pub dirs: Vec<PathBuf>,
}

impl ModelSearch {
    /// The `--models` directories followed by those of `ROUTERC_MODELS`.
    pub fn new(flags: &[PathBuf]) -> ModelSearch {
        let mut dirs = flags.to_vec();
        if let Some(env) = std::env::var_os("ROUTERC_MODELS") {
            dirs.extend(std::env::split_paths(&env).filter(|p| !p.as_os_str().is_empty()));
        }
        ModelSearch { dirs }
    }

    /// The directory `name` stands for. `policy_dir` is the directory of the policy file
    /// (or bundle), when there is one.
    pub fn resolve(&self, name: &str, policy_dir: Option<&Path>) -> Result<PathBuf, NotFound> {
        let name = ALIASES
            .iter()
            .find(|(alias, _)| *alias == name)
            .map_or(name, |(_, dir)| dir);
        let mut tried = Vec::new();
        if name.contains('/') || Path::new(name).is_absolute() {
            let path = match policy_dir {
                Some(dir) => dir.join(name),
                None => PathBuf::from(name),
            };
            if path.is_dir() {
                return Ok(path);
            }
            tried.push(path);
        } else {
            let mut places: Vec<PathBuf> = self.dirs.clone();
            if let Some(dir) = policy_dir {
                places.push(dir.join("models"));
                if let Some(parent) = dir.parent() {
                    places.push(parent.join("models"));
                }
            }
            places.push(PathBuf::from("models"));
            for place in places {
                let path = place.join(name);
                if path.is_dir() {
                    return Ok(path);
                }
                if !tried.contains(&path) {
                    tried.push(path);
                }
            }
        }
        Err(NotFound {
            name: name.to_string(),
            tried,
        })
    }
}

/// A model name that matches no directory.
#[derive(Clone, Debug, PartialEq)]
pub struct NotFound {
    pub name: String,
    /// Every directory looked at, in order.
    pub tried: Vec<PathBuf>,
}

impl NotFound {
    pub fn message(&self) -> String {
        format!("model `{}` is not installed", self.name)
    }

    /// Where it was looked for and, for the models routerc knows, how to install it.
    pub fn help(&self) -> String {
        let tried: Vec<String> = self
            .tried
            .iter()
            .map(|p| format!("`{}`", p.display()))
            .collect();
        let mut help = format!("looked for {}", tried.join(", "));
        if let Some(install) = install_command(&self.name) {
            help.push_str(&format!("; install it with `{install}`"));
        } else {
            help.push_str(
                "; pass `--models DIR` or set `ROUTERC_MODELS` to the folder that holds it",
            );
        }
        help
    }
}

/// The command that installs a model routerc knows by name.
pub fn install_command(dir_name: &str) -> Option<&'static str> {
    match dir_name {
        "all-MiniLM-L6-v2" => Some("scripts/install-minilm"),
        _ => None,
    }
}

/// How label names compare: lowercase, spaces and hyphens as underscores, so a model's
/// `computer science` is a policy's `computer_science`.
pub fn normalise_label(label: &str) -> String {
    label
        .trim()
        .chars()
        .map(|c| match c {
            ' ' | '-' => '_',
            c => c,
        })
        .collect::<String>()
        .to_lowercase()
}

/// The entity type of a token-classification label (`B-CREDIT_CARD` → `credit_card`,
/// `B-EMAIL_ADDRESS` → `email`), or `None` for the outside label `O`.
pub fn entity_type(label: &str) -> Option<String> {
    let bare = label
        .strip_prefix("B-")
        .or_else(|| label.strip_prefix("I-"))
        .unwrap_or(label);
    let n = normalise_label(bare);
    (n != "o" && !n.is_empty()).then(|| pii_type(&n).to_string())
}

/// A PII entity type under the name routerc uses: vLLM Semantic Router's (Presidio's) names
/// `email_address`, `phone_number`, `us_ssn` and `iban_code` are `email`, `phone`, `ssn` and
/// `iban`; other names are unchanged. Applied to a token classifier's declared labels and to
/// its model's entity types before they are compared.
pub fn pii_type(normalised: &str) -> &str {
    match normalised {
        "email_address" => "email",
        "phone_number" => "phone",
        "us_ssn" => "ssn",
        "iban_code" => "iban",
        other => other,
    }
}

/// Each declared label's index among the model's labels; the declared labels the model lacks
/// are the error.
pub fn bind_labels(declared: &[String], model: &[String]) -> Result<Vec<usize>, Vec<String>> {
    let model: Vec<String> = model.iter().map(|l| normalise_label(l)).collect();
    let mut bound = Vec::with_capacity(declared.len());
    let mut missing = Vec::new();
    for d in declared {
        match model.iter().position(|m| *m == normalise_label(d)) {
            Some(i) => bound.push(i),
            None => missing.push(d.clone()),
        }
    }
    if missing.is_empty() {
        Ok(bound)
    } else {
        Err(missing)
    }
}

/// Loaded models, each directory once.
#[derive(Default)]
pub struct ModelCache {
    loaded: Mutex<HashMap<PathBuf, Arc<Model>>>,
}

impl ModelCache {
    /// The process's cache: every policy loaded in this process shares it.
    pub fn global() -> &'static ModelCache {
        static CACHE: OnceLock<ModelCache> = OnceLock::new();
        CACHE.get_or_init(ModelCache::default)
    }

    /// The model in `dir`, loaded now or earlier.
    pub fn get(&self, dir: &Path) -> Result<Arc<Model>, ModelError> {
        let key = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        // Loading under the lock: two policies naming one model load it once.
        let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(m) = loaded.get(&key) {
            return Ok(m.clone());
        }
        let model = Arc::new(Model::load(&key, &load_options(&key))?);
        loaded.insert(key, model.clone());
        Ok(model)
    }

    /// How many models are loaded.
    pub fn len(&self) -> usize {
        self.loaded.lock().map(|l| l.len()).unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// At most [`MAX_TOKENS`] tokens: the head of a long text says what it is about, its end
/// what is asked.
fn load_options(dir: &Path) -> LoadOptions {
    let limit = routerc_models::ModelConfig::from_file(&dir.join("config.json"))
        .map(|c| c.max_position_embeddings())
        .unwrap_or(MAX_TOKENS);
    LoadOptions {
        max_length: Some(limit.min(MAX_TOKENS)),
        truncation: Truncation::HeadAndTail { head: HEAD_TOKENS },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_normalise() {
        assert_eq!(normalise_label("computer science"), "computer_science");
        assert_eq!(normalise_label("Prompt-Injection"), "prompt_injection");
        assert_eq!(entity_type("B-CREDIT_CARD").as_deref(), Some("credit_card"));
        assert_eq!(entity_type("I-EMAIL").as_deref(), Some("email"));
        assert_eq!(entity_type("O"), None);
        assert_eq!(entity_type("B-EMAIL_ADDRESS").as_deref(), Some("email"));
        assert_eq!(pii_type("us_ssn"), "ssn");
        let model = ["math".to_string(), "computer science".to_string()];
        assert_eq!(
            bind_labels(&["computer_science".into(), "math".into()], &model),
            Ok(vec![1, 0])
        );
        assert_eq!(
            bind_labels(&["law".into(), "math".into()], &model),
            Err(vec!["law".to_string()])
        );
    }

    #[test]
    fn names_resolve_through_the_search_path() {
        let root = std::env::temp_dir().join(format!("routerc-models-{}", std::process::id()));
        let flag = root.join("flag");
        let policy = root.join("team").join("policies");
        std::fs::create_dir_all(flag.join("domain")).expect("dirs");
        std::fs::create_dir_all(policy.join("models").join("pii")).expect("dirs");
        std::fs::create_dir_all(root.join("team").join("models").join("jailbreak")).expect("dirs");
        std::fs::create_dir_all(policy.join("local").join("mine")).expect("dirs");
        let search = ModelSearch {
            dirs: vec![flag.clone()],
        };
        let at = |n: &str| search.resolve(n, Some(&policy));
        assert_eq!(at("domain"), Ok(flag.join("domain")));
        assert_eq!(at("pii"), Ok(policy.join("models").join("pii")));
        assert_eq!(
            at("jailbreak"),
            Ok(root.join("team").join("models").join("jailbreak"))
        );
        assert_eq!(at("local/mine"), Ok(policy.join("local").join("mine")));
        let missing = at("no-such-model").expect_err("not installed anywhere");
        assert_eq!(missing.tried[0], flag.join("no-such-model"));
        assert_eq!(
            missing.tried.last(),
            Some(&PathBuf::from("models/no-such-model"))
        );
        assert!(
            missing.help().contains("--models DIR"),
            "{}",
            missing.help()
        );
        let minilm = NotFound {
            name: "all-MiniLM-L6-v2".into(),
            tried: vec![],
        };
        assert!(
            minilm.help().contains("scripts/install-minilm"),
            "{}",
            minilm.help()
        );
        let _ = std::fs::remove_dir_all(&root);
    }
}
