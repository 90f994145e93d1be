//! Hot reload: the policy (and the API key file) are loaded again when their files change or
//! the process gets SIGHUP. A policy that fails to load or compile changes nothing: the last
//! good one keeps serving, and the diagnostics go to the log rendered as `routerc check`
//! renders them.
//!
//! Changes are found by polling the contents of every file the last load read (the root,
//! its includes, the key file), not with file-system notifications: editors and deploy tools
//! replace files by rename, write them in several steps or mount them through symlinks
//! (Kubernetes config maps), and a content hash sees all of that the same way. A change is
//! acted on only once the files have stayed the same for one more poll, which debounces
//! multi-step writes. Policies are small, so reading them twice a second costs nothing.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::engine::{self, CompiledPolicy, LoadError};
use crate::render;
use crate::signals::{self, ModelCache, ModelSearch, PlanOptions, SignalPlan};
use crate::source::FileSystem;

use super::Gateway;

/// Why a load failed, and the files it read (to watch them for the fix).
pub struct LoadFailure {
    pub message: String,
    pub files: Vec<PathBuf>,
}

/// Loads a policy source (with its includes) or a bundle, prepares its signals (models
/// loaded once per process through the [`ModelCache`], so a reload reuses them; example
/// sentences embedded) and compiles it. Returns the files it read with it.
pub fn load_policy(
    path: &Path,
    color: bool,
    models: &ModelSearch,
) -> Result<(CompiledPolicy, SignalPlan, Vec<PathBuf>), LoadFailure> {
    let only_root = || vec![path.to_path_buf()];
    let loaded = match engine::load(path, &FileSystem) {
        Ok(l) => l,
        Err(LoadError::Io(message)) => {
            return Err(LoadFailure {
                message,
                files: only_root(),
            })
        }
        Err(LoadError::Bundle(e)) => {
            return Err(LoadFailure {
                message: format!("`{}`: {e}", path.display()),
                files: only_root(),
            })
        }
        Err(LoadError::Diagnostics(sources, diagnostics)) => {
            return Err(LoadFailure {
                message: render::human_report(&sources.sources, &diagnostics.sorted(), color),
                files: sources
                    .sources
                    .files()
                    .map(|(_, f)| f.path.clone())
                    .collect(),
            });
        }
    };
    let files = match &loaded.sources {
        Some((program, _)) => program
            .sources
            .files()
            .map(|(_, f)| f.path.clone())
            .collect(),
        None => only_root(),
    };
    // The models and example files the signals name: a source gets diagnostics with spans
    // (E05xx, as `routerc check` shows them); a bundle has no source to point into, so its
    // problems come from preparing the plan.
    if let (Some(policy), Some((sources, _))) = (&loaded.policy, &loaded.sources) {
        let found = signals::check::check_models(sources, policy, path.parent(), models);
        if !found.is_empty() {
            let sorted: Vec<_> = found.iter().collect();
            return Err(LoadFailure {
                message: render::human_report(&sources.sources, &sorted, color),
                files,
            });
        }
    }
    let options = PlanOptions {
        search: models,
        policy_dir: path.parent(),
        cache: ModelCache::global(),
    };
    let plan = match SignalPlan::prepare(&loaded.program, options) {
        Ok(plan) => plan,
        Err(errors) => {
            let message = errors
                .iter()
                .map(|e| format!("error: {e}\n"))
                .collect::<String>();
            return Err(LoadFailure { message, files });
        }
    };
    match CompiledPolicy::new(loaded.program) {
        Ok(policy) => Ok((policy, plan, files)),
        Err(e) => Err(LoadFailure {
            message: e.to_string(),
            files,
        }),
    }
}

/// The contents of the watched files, as digests (`None` for a file that cannot be read
/// right now, such as one being replaced).
pub type Fingerprint = Vec<Option<[u8; 32]>>;

pub fn fingerprint(files: &[PathBuf]) -> Fingerprint {
    files
        .iter()
        .map(|f| std::fs::read(f).ok().map(|b| Sha256::digest(&b).into()))
        .collect()
}

/// What starts a reload.
pub enum Trigger {
    /// The process got SIGHUP.
    Hangup,
    /// A watched file changed and then stayed the same for a poll.
    Changed,
}

/// Watches `files` every `poll` (never when `None`) and waits for SIGHUP, which `hangup`
/// is notified of; reloads the gateway on either, one reload at a time. `loaded` is the
/// fingerprint taken when the serving policy was loaded, so an edit made since is seen.
/// Runs until the task is dropped.
pub async fn watch(
    gateway: Arc<Gateway>,
    mut files: Vec<PathBuf>,
    mut loaded: Fingerprint,
    poll: Option<Duration>,
    hangup: Arc<tokio::sync::Notify>,
) {
    let mut seen = loaded.clone();
    loop {
        let tick = async {
            match poll {
                Some(p) => tokio::time::sleep(p).await,
                None => std::future::pending().await,
            }
        };
        let trigger = tokio::select! {
            _ = hangup.notified() => Trigger::Hangup,
            _ = tick => {
                let now = fingerprint(&files);
                let settled = now != loaded && now == seen;
                seen = now;
                if !settled {
                    continue;
                }
                Trigger::Changed
            }
        };
        let g = gateway.clone();
        let previous = files.clone();
        // Taken before loading: an edit made while the reload runs is then seen next tick.
        let before = fingerprint(&files);
        // Compiling is CPU work: off the request threads.
        files = tokio::task::spawn_blocking(move || g.reload(trigger))
            .await
            .unwrap_or_else(|_| previous.clone());
        loaded = if files == previous {
            before
        } else {
            fingerprint(&files)
        };
        seen = loaded.clone();
    }
}
