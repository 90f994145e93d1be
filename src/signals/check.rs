//! Checking that what a policy's signals need is there: models installed, of the right task,
//! with the declared labels; example files readable. Run by `routerc check`, `compile`,
//! `eval --request` and `serve` after the checker, with diagnostics on the model name or the
//! label at fault. Only config.json is read here (no weights), so it is cheap.
//!
//! Deliberately not part of `check::check`: the checker (and the language server, and policy
//! tests) judges the text alone; this stage depends on the machine the policy runs on.

use std::path::Path;

use routerc_models::{ModelConfig, Task};

use crate::diagnostic::{codes, Diagnostic};
use crate::policy::{ExampleSource, Extractor, Policy, Signal};
use crate::source::Program;
use crate::syntax::ast::{self, Item};
use crate::syntax::Span;

use super::models::{bind_labels, entity_type, normalise_label, pii_type, ModelSearch};
use super::pii::Validator;
use super::plan::read_examples;

/// Diagnostics for every model and example file the policy's signals need.
pub fn check_models(
    sources: &Program,
    policy: &Policy,
    policy_dir: Option<&Path>,
    search: &ModelSearch,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for s in &policy.signals {
        let decl = sources.items().find_map(|i| match i {
            Item::Signal(d) if d.span == s.span => Some(&**d),
            _ => None,
        });
        let spans = Spans::of(decl, s);
        match &s.extractor {
            Extractor::Classifier { model, label, .. } => {
                let Some(config) = config(
                    model,
                    Task::SequenceClassification,
                    policy_dir,
                    search,
                    spans.model,
                    &mut out,
                ) else {
                    continue;
                };
                match label {
                    Some(label) => {
                        if bind_labels(std::slice::from_ref(label), &config.labels).is_err() {
                            out.push(missing_labels(
                                model,
                                &[(label.clone(), spans.label_arg)],
                                &config.labels,
                            ));
                        }
                    }
                    None => {
                        if let Err(missing) = bind_labels(s.ty.labels(), &config.labels) {
                            let at: Vec<_> = missing
                                .iter()
                                .map(|m| (m.clone(), spans.label(m)))
                                .collect();
                            out.push(missing_labels(model, &at, &config.labels));
                        }
                    }
                }
            }
            Extractor::TokenClassifier { model, .. } => {
                let Some(config) = config(
                    model,
                    Task::TokenClassification,
                    policy_dir,
                    search,
                    spans.model,
                    &mut out,
                ) else {
                    continue;
                };
                // `B-X` and `I-X` are one entity type.
                let mut types: Vec<String> = Vec::new();
                for t in config.labels.iter().filter_map(|l| entity_type(l)) {
                    if !types.contains(&t) {
                        types.push(t);
                    }
                }
                let missing: Vec<_> =
                    s.ty.labels()
                        .iter()
                        .filter(|l| {
                            let n = pii_type(&normalise_label(l)).to_string();
                            !types.contains(&n) && Validator::for_label(&n).is_none()
                        })
                        .map(|m| (m.clone(), spans.label(m)))
                        .collect();
                if !missing.is_empty() {
                    let mut known = types.clone();
                    known.extend(
                        Validator::ALL
                            .iter()
                            .map(|v| v.label().to_string())
                            .filter(|v| !types.contains(v)),
                    );
                    out.push(missing_labels(model, &missing, &known));
                }
            }
            Extractor::Examples { source, model, .. } => {
                if let ExampleSource::File(file) = source {
                    if let Err((message, help)) = read_examples(file, policy_dir) {
                        out.push(
                            Diagnostic::new(&codes::E0504, spans.first, message)
                                .with_label("the example sentences")
                                .with_help_opt(help),
                        );
                    }
                }
                config(
                    model,
                    Task::SentenceEmbedding,
                    policy_dir,
                    search,
                    spans.model_arg.unwrap_or(spans.whole),
                    &mut out,
                );
            }
            _ => {}
        }
    }
    out
}

/// Where in the declaration to point.
#[derive(Clone, Copy)]
struct Spans<'a> {
    whole: Span,
    /// The first positional argument (a classifier's model name, the examples' source).
    first: Span,
    /// Where the model is named: the first argument, or `model:` for `examples`.
    model: Span,
    model_arg: Option<Span>,
    label_arg: Span,
    labels: Option<&'a [ast::Label]>,
}

impl<'a> Spans<'a> {
    fn of(decl: Option<&'a ast::SignalDecl>, s: &Signal) -> Spans<'a> {
        let whole = s.span;
        let args = decl
            .and_then(|d| d.extractor.args.as_deref())
            .unwrap_or_default();
        let first = args
            .iter()
            .find(|a| a.name.is_none())
            .map_or(whole, |a| a.value.span());
        let named = |n: &str| {
            args.iter()
                .find(|a| a.name.as_ref().is_some_and(|i| i.name == n))
                .map(|a| a.value.span())
        };
        let model_arg = named("model");
        let model = match s.extractor {
            Extractor::Examples { .. } => model_arg.unwrap_or(whole),
            _ => first,
        };
        Spans {
            whole,
            first,
            model,
            model_arg,
            label_arg: named("label").unwrap_or(whole),
            labels: decl.and_then(|d| d.ty.labels.as_deref()),
        }
    }

    fn label(&self, name: &str) -> Span {
        self.labels
            .and_then(|ls| ls.iter().find(|l| l.name == name))
            .map_or(self.whole, |l| l.span)
    }
}

/// Resolves a model and reads its config.json; reports why it cannot serve.
fn config(
    name: &str,
    task: Task,
    policy_dir: Option<&Path>,
    search: &ModelSearch,
    at: Span,
    out: &mut Vec<Diagnostic>,
) -> Option<ModelConfig> {
    let dir = match search.resolve(name, policy_dir) {
        Ok(d) => d,
        Err(nf) => {
            out.push(
                Diagnostic::new(&codes::E0501, at, nf.message())
                    .with_label("no such model directory")
                    .with_help(nf.help()),
            );
            return None;
        }
    };
    let config = match ModelConfig::from_file(&dir.join("config.json")) {
        Ok(c) => c,
        Err(e) => {
            out.push(
                Diagnostic::new(
                    &codes::E0502,
                    at,
                    format!("model `{name}` in `{}` cannot be used: {e}", dir.display()),
                )
                .with_label("this model")
                .with_help_opt(e.help()),
            );
            return None;
        }
    };
    if config.task != task {
        out.push(
            Diagnostic::new(
                &codes::E0502,
                at,
                format!(
                    "model `{name}` (`{}`) is a {}, this signal needs a {}",
                    dir.display(),
                    config.task.describe(),
                    task.describe()
                ),
            )
            .with_label("wrong kind of model"),
        );
        return None;
    }
    Some(config)
}

fn missing_labels(model: &str, missing: &[(String, Span)], known: &[String]) -> Diagnostic {
    let names: Vec<String> = missing.iter().map(|(l, _)| format!("`{l}`")).collect();
    // Labels that share a span (a vLLM config's whole `pii_types_allowed`, lowered to one
    // `set(...)`) get one label listing them, not one repeated label each.
    let mut at: Vec<(Span, Vec<&str>)> = Vec::new();
    for (label, span) in missing {
        match at.iter_mut().find(|(s, _)| s == span) {
            Some((_, labels)) => labels.push(label),
            None => at.push((*span, vec![label])),
        }
    }
    // The message names every missing label; a label lists its own only when they are
    // spread over several places.
    let spread = at.len() > 1;
    let describe = |labels: &[&str], either: &str| match labels {
        [_] => format!("not a label of the model{either}"),
        _ if !spread => "not labels of the model".to_string(),
        _ => {
            let listed: Vec<String> = labels.iter().map(|l| format!("`{l}`")).collect();
            format!("not labels of the model{either}: {}", listed.join(", "))
        }
    };
    let mut d = Diagnostic::new(
        &codes::E0503,
        at[0].0,
        format!("model `{model}` has no label {}", names.join(", ")),
    )
    .with_label(describe(&at[0].1, ""));
    for (span, labels) in &at[1..] {
        d = d.with_related(*span, describe(labels, " either"));
    }
    let hint = crate::diagnostic::suggest(&missing[0].0, known.iter().map(String::as_str));
    d.with_help(match hint {
        Some(h) => format!(
            "did you mean `{}`? the model's labels are {}",
            normalise_label(&h),
            known.join(", ")
        ),
        None => format!("the model's labels are {}", known.join(", ")),
    })
}
