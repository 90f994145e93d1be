//! Step two: a policy's signals prepared once (keywords compiled, regexes compiled, models
//! loaded and their labels bound to the declared ones, example sentences embedded), so that a
//! request only computes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use regex::{Regex, RegexSet};
use routerc_models::{Model, Task};

use crate::engine::ir::{certain_signals, Program};
use crate::policy::{Aggregate, Cost, ExampleSource, Extractor, LengthUnit, TextSource, Type};

use super::keywords::KeywordMatcher;
use super::models::{bind_labels, entity_type, normalise_label, pii_type, ModelCache, ModelSearch};
use super::pii::Validator;

/// Where a plan finds what its signals need.
#[derive(Clone, Copy)]
pub struct PlanOptions<'a> {
    pub search: &'a ModelSearch,
    /// The directory of the policy file (or bundle): model paths with a `/` and example
    /// files are relative to it.
    pub policy_dir: Option<&'a Path>,
    pub cache: &'a ModelCache,
}

/// Why a signal cannot be prepared.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanError {
    pub signal: String,
    pub message: String,
    pub help: Option<String>,
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "signal `{}`: {}", self.signal, self.message)?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// What to compute for each signal of a policy.
pub struct SignalPlan {
    pub(super) signals: Vec<Compute>,
    pub(super) names: Vec<String>,
    /// Expensive signals every decision reads: computed in parallel before deciding.
    pub(super) certain: Vec<u32>,
    /// The tokenizer `length.tokens` counts with: the first model the policy loads.
    pub(super) tokenizer: Option<Arc<Model>>,
}

pub(super) enum Compute {
    Keyword {
        matcher: KeywordMatcher,
        text: TextSource,
    },
    Regex {
        set: RegexSet,
        text: TextSource,
    },
    /// The number of matches all the patterns find (an `int` regex signal).
    RegexCount {
        patterns: Vec<Regex>,
        text: TextSource,
    },
    Header {
        name: String,
        ty: Type,
    },
    /// The authenticated caller's `user` (true) or `role` (false).
    Identity {
        user: bool,
    },
    Length {
        unit: LengthUnit,
        text: TextSource,
        role: Option<String>,
    },
    Language {
        text: TextSource,
    },
    RequestModel,
    RequestTools,
    RequestImages,
    RequestMetadata {
        key: String,
    },
    Category {
        model: Arc<Model>,
        /// Each declared label's index among the model's labels.
        labels: Vec<usize>,
        /// The declared `other` label, which takes the probability of the model's labels the
        /// policy does not declare.
        other: Option<usize>,
        text: TextSource,
    },
    Score {
        model: Arc<Model>,
        label: usize,
        text: TextSource,
    },
    Entities {
        model: Arc<Model>,
        /// A model entity type (normalised) and the declared label it sets.
        types: Vec<(String, u32)>,
        /// The validators for declared labels, with the label each sets.
        validators: Vec<(Validator, u32)>,
        labels: usize,
        text: TextSource,
    },
    Examples {
        model: Arc<Model>,
        sentences: Vec<String>,
        /// Unit-length embeddings of the sentences.
        vectors: Vec<Vec<f32>>,
        top_k: usize,
        aggregate: Aggregate,
        text: TextSource,
    },
    /// Never computed (`external`).
    Absent,
}

impl SignalPlan {
    /// Prepares every signal, loading the models they name. All problems are reported, not
    /// only the first.
    pub fn prepare(
        program: &Program,
        options: PlanOptions<'_>,
    ) -> Result<SignalPlan, Vec<PlanError>> {
        let mut signals = Vec::with_capacity(program.signals.len());
        let mut errors = Vec::new();
        let mut tokenizer = None;
        for s in &program.signals {
            match prepare_one(&s.extractor, &s.ty, options) {
                Ok(c) => {
                    if tokenizer.is_none() {
                        tokenizer = c.model().cloned();
                    }
                    signals.push(c);
                }
                Err((message, help)) => {
                    errors.push(PlanError {
                        signal: s.name.clone(),
                        message,
                        help,
                    });
                    signals.push(Compute::Absent);
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let certain = certain_signals(program)
            .into_iter()
            .filter(|&s| program.signals[s as usize].cost == Cost::Expensive)
            .collect();
        Ok(SignalPlan {
            signals,
            names: program.signals.iter().map(|s| s.name.clone()).collect(),
            certain,
            tokenizer,
        })
    }

    /// Whether some signal runs a model: deciding may then take milliseconds, and callers on
    /// an async runtime should decide on a blocking thread.
    pub fn runs_models(&self) -> bool {
        self.signals.iter().any(|c| c.model().is_some())
    }

    /// The expensive signals every decision reads, computed in parallel before deciding.
    pub fn certain(&self) -> &[u32] {
        &self.certain
    }

    pub fn signal_name(&self, signal: u32) -> &str {
        self.names.get(signal as usize).map_or("?", String::as_str)
    }
}

impl Compute {
    fn model(&self) -> Option<&Arc<Model>> {
        match self {
            Compute::Category { model, .. }
            | Compute::Score { model, .. }
            | Compute::Entities { model, .. }
            | Compute::Examples { model, .. } => Some(model),
            _ => None,
        }
    }
}

type Problem = (String, Option<String>);

fn prepare_one(ex: &Extractor, ty: &Type, o: PlanOptions<'_>) -> Result<Compute, Problem> {
    Ok(match ex {
        Extractor::Keyword {
            keywords,
            mode,
            text,
        } => Compute::Keyword {
            matcher: KeywordMatcher::new(keywords, *mode).map_err(|e| (e, None))?,
            text: *text,
        },
        Extractor::Regex { patterns, text } if *ty == Type::Int => Compute::RegexCount {
            patterns: patterns
                .iter()
                .map(|p| Regex::new(p))
                .collect::<Result<_, _>>()
                .map_err(|e| (format!("invalid regex: {e}"), None))?,
            text: *text,
        },
        Extractor::Regex { patterns, text } => Compute::Regex {
            set: RegexSet::new(patterns).map_err(|e| (format!("invalid regex: {e}"), None))?,
            text: *text,
        },
        Extractor::Header { name } => Compute::Header {
            name: name.to_ascii_lowercase(),
            ty: ty.clone(),
        },
        Extractor::Identity { field } => Compute::Identity {
            user: field == "user",
        },
        Extractor::Length { unit, text, role } => Compute::Length {
            unit: *unit,
            text: *text,
            role: role.clone(),
        },
        Extractor::Language { text } => Compute::Language { text: *text },
        Extractor::RequestModel => Compute::RequestModel,
        Extractor::RequestTools => Compute::RequestTools,
        Extractor::RequestImages => Compute::RequestImages,
        Extractor::RequestMetadata { key } => Compute::RequestMetadata { key: key.clone() },
        Extractor::External { .. } => Compute::Absent,
        Extractor::Classifier { model, label, text } => {
            let m = load(model, Task::SequenceClassification, o)?;
            match (label, ty) {
                (Some(label), _) => {
                    let bound = bind_labels(std::slice::from_ref(label), m.labels())
                        .map_err(|_| lacks(model, &m, std::slice::from_ref(label)))?;
                    Compute::Score {
                        model: m,
                        label: bound[0],
                        text: *text,
                    }
                }
                (None, Type::Category(declared)) => {
                    let labels = bind_labels(declared, m.labels())
                        .map_err(|missing| lacks(model, &m, &missing))?;
                    let other = declared.iter().position(|d| normalise_label(d) == "other");
                    Compute::Category {
                        model: m,
                        labels,
                        other,
                        text: *text,
                    }
                }
                (None, other) => {
                    return Err((
                        format!("a classifier gives a `category`, not `{other}`"),
                        None,
                    ))
                }
            }
        }
        Extractor::TokenClassifier { model, text } => {
            let m = load(model, Task::TokenClassification, o)?;
            let declared = ty.labels();
            let model_types: Vec<String> =
                m.labels().iter().filter_map(|l| entity_type(l)).collect();
            let mut types = Vec::new();
            let mut validators = Vec::new();
            let mut missing = Vec::new();
            for (i, d) in declared.iter().enumerate() {
                let n = pii_type(&normalise_label(d)).to_string();
                let in_model = model_types.contains(&n);
                if in_model {
                    types.push((n.clone(), i as u32));
                }
                match Validator::for_label(&n) {
                    Some(v) => validators.push((v, i as u32)),
                    None if !in_model => missing.push(d.clone()),
                    None => {}
                }
            }
            if !missing.is_empty() {
                return Err(lacks(model, &m, &missing));
            }
            Compute::Entities {
                model: m,
                types,
                validators,
                labels: declared.len(),
                text: *text,
            }
        }
        Extractor::Examples {
            source,
            model,
            aggregate,
            top_k,
            text,
        } => {
            let sentences = match source {
                ExampleSource::Inline(s) => s.clone(),
                ExampleSource::File(f) => read_examples(f, o.policy_dir)?,
            };
            let m = load(model, Task::SentenceEmbedding, o)?;
            let mut vectors = Vec::with_capacity(sentences.len());
            for chunk in sentences.chunks(32) {
                let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
                vectors.extend(
                    m.embed(&refs)
                        .map_err(|e| (format!("cannot embed the example sentences: {e}"), None))?,
                );
            }
            Compute::Examples {
                model: m,
                sentences,
                vectors,
                top_k: (*top_k).max(1) as usize,
                aggregate: *aggregate,
                text: *text,
            }
        }
    })
}

fn load(name: &str, task: Task, o: PlanOptions<'_>) -> Result<Arc<Model>, Problem> {
    let dir = o
        .search
        .resolve(name, o.policy_dir)
        .map_err(|nf| (nf.message(), Some(nf.help())))?;
    let model = o.cache.get(&dir).map_err(|e| {
        (
            format!("cannot load model `{name}` from `{}`: {e}", dir.display()),
            e.help(),
        )
    })?;
    if model.info().task != task {
        return Err((
            format!(
                "model `{name}` (`{}`) is a {}, this signal needs a {}",
                dir.display(),
                model.info().task.describe(),
                task.describe()
            ),
            None,
        ));
    }
    Ok(model)
}

fn lacks(name: &str, model: &Model, missing: &[String]) -> Problem {
    let list: Vec<String> = missing.iter().map(|l| format!("`{l}`")).collect();
    (
        format!("model `{name}` has no label {}", list.join(", ")),
        Some(format!("its labels are {}", model.labels().join(", "))),
    )
}

/// The example sentences of a file: one per line; blank lines and lines starting with `#`
/// are skipped.
pub fn read_examples(file: &str, policy_dir: Option<&Path>) -> Result<Vec<String>, Problem> {
    let path = match policy_dir {
        Some(dir) => dir.join(file),
        None => PathBuf::from(file),
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        (
            format!(
                "cannot read the examples file `{}`: {}",
                path.display(),
                e.to_string().to_lowercase()
            ),
            None,
        )
    })?;
    let sentences = parse_examples(&text);
    if sentences.is_empty() {
        return Err((
            format!("the examples file `{}` has no sentences", path.display()),
            Some("write one example sentence per line".into()),
        ));
    }
    Ok(sentences)
}

pub fn parse_examples(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect()
}
