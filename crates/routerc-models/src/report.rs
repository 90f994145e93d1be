//! What `routerc model inspect DIR` and `routerc model run DIR --text …` print.
//!
//! Each report is plain data: `serde::Serialize` for `--format json`, `Display` for people.
//! The CLI owns argument parsing, colour and exit codes; this module only builds and formats.

use std::fmt;
use std::path::Path;

use crate::config::{Family, Task};
use crate::model::{Classification, LoadOptions, Model, ModelInfo, TokenClassification};
use crate::ModelError;

/// `routerc model inspect DIR`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct InspectReport {
    #[serde(flatten)]
    pub info: ModelInfo,
}

/// Loads the model in `dir` (so every file is checked) and describes it.
pub fn inspect_report(dir: &Path) -> Result<InspectReport, ModelError> {
    let model = Model::load(dir, &LoadOptions::default())?;
    Ok(InspectReport {
        info: model.info().clone(),
    })
}

/// What the network produced for the text.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RunOutput {
    Classification {
        labels: Vec<String>,
        #[serde(flatten)]
        result: Classification,
    },
    TokenClassification(TokenClassification),
    Embedding {
        /// Always 1 up to rounding: the vector is L2-normalised.
        norm: f32,
        embedding: Vec<f32>,
    },
}

/// `routerc model run DIR --text …`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunReport {
    pub model: String,
    pub architecture: String,
    pub text: String,
    pub input_ids: Vec<u32>,
    pub tokens: Vec<String>,
    pub dropped_tokens: usize,
    pub output: RunOutput,
}

/// Loads the model in `dir` and runs it on `text`.
pub fn run_report(dir: &Path, text: &str) -> Result<RunReport, ModelError> {
    let model = Model::load(dir, &LoadOptions::default())?;
    run_loaded(&model, text)
}

/// Runs an already loaded model on `text`.
pub fn run_loaded(model: &Model, text: &str) -> Result<RunReport, ModelError> {
    let tokenized = model.tokenize(text)?;
    let output = match model.info().task {
        Task::SequenceClassification => {
            let result = first(model.classify(&[text])?)?;
            RunOutput::Classification {
                labels: model.labels().to_vec(),
                result,
            }
        }
        Task::TokenClassification => {
            RunOutput::TokenClassification(first(model.classify_tokens(&[text])?)?)
        }
        Task::SentenceEmbedding => {
            let embedding = first(model.embed(&[text])?)?;
            RunOutput::Embedding {
                norm: embedding
                    .iter()
                    .map(|value| value * value)
                    .sum::<f32>()
                    .sqrt(),
                embedding,
            }
        }
    };
    Ok(RunReport {
        model: model.info().path.display().to_string(),
        architecture: model.info().architecture.clone(),
        text: text.to_string(),
        input_ids: tokenized.ids,
        tokens: tokenized.tokens,
        dropped_tokens: tokenized.dropped,
        output,
    })
}

fn first<T>(results: Vec<T>) -> Result<T, ModelError> {
    results
        .into_iter()
        .next()
        .ok_or_else(|| ModelError::Inference {
            message: "the model returned no result".to_string(),
        })
}

impl fmt::Display for InspectReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let info = &self.info;
        let family = match info.family {
            Family::ModernBert => "ModernBERT",
            Family::Bert => "BERT",
        };
        writeln!(f, "model         {}", info.path.display())?;
        writeln!(f, "architecture  {} ({family})", info.architecture)?;
        writeln!(f, "task          {}", info.task.describe())?;
        writeln!(
            f,
            "size          {} parameters, {} layers, hidden size {}, vocabulary {}",
            group_digits(info.parameters),
            info.layers,
            info.hidden_size,
            group_digits(info.vocab_size)
        )?;
        writeln!(
            f,
            "weights       {} ({}, {})",
            info.weights_file.display(),
            info.weights_dtype,
            human_bytes(info.weights_bytes)
        )?;
        writeln!(
            f,
            "max length    {} tokens (model limit {}), truncation {}",
            info.max_length,
            info.max_position_embeddings,
            describe_truncation(info)
        )?;
        match info.embedding_size {
            Some(size) => write!(
                f,
                "embedding     {size} dimensions, mean-pooled, unit length"
            ),
            None => write!(
                f,
                "labels        {} ({})",
                info.labels.len(),
                info.labels.join(", ")
            ),
        }
    }
}

fn describe_truncation(info: &ModelInfo) -> String {
    match info.truncation {
        crate::Truncation::Head => "keeps the head".to_string(),
        crate::Truncation::Tail => "keeps the tail".to_string(),
        crate::Truncation::HeadAndTail { head } => format!("keeps {head} head tokens and the tail"),
    }
}

impl fmt::Display for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "model      {} ({})", self.model, self.architecture)?;
        writeln!(f, "text       {:?}", self.text)?;
        writeln!(f, "input ids  {:?}", self.input_ids)?;
        writeln!(f, "tokens     {}", self.tokens.join(" "))?;
        if self.dropped_tokens > 0 {
            writeln!(f, "truncated  {} tokens dropped", self.dropped_tokens)?;
        }
        match &self.output {
            RunOutput::Classification { labels, result } => {
                writeln!(f, "label      {} ({:.4})", result.label, result.score)?;
                let width = labels
                    .iter()
                    .map(|label| label.chars().count())
                    .max()
                    .unwrap_or(0);
                let mut order: Vec<usize> = (0..labels.len()).collect();
                order.sort_by(|a, b| result.probs[*b].total_cmp(&result.probs[*a]));
                write!(f, "{:width$}  {:>10}  {:>8}", "", "logit", "prob")?;
                for index in order {
                    write!(
                        f,
                        "\n{:width$}  {:>10.4}  {:>8.4}",
                        labels[index], result.logits[index], result.probs[index]
                    )?;
                }
                Ok(())
            }
            RunOutput::TokenClassification(result) => {
                let width = result
                    .tokens
                    .iter()
                    .map(|token| token.token.chars().count())
                    .max()
                    .unwrap_or(0);
                write!(f, "{:width$}  {:<12}  {:>8}", "token", "label", "prob")?;
                for token in &result.tokens {
                    write!(
                        f,
                        "\n{:width$}  {:<12}  {:>8.4}",
                        token.token, token.label, token.score
                    )?;
                }
                for span in &result.entities {
                    write!(
                        f,
                        "\nentity     {} {:?} at characters {}..{} ({:.4})",
                        span.label, span.text, span.char_start, span.char_end, span.score
                    )?;
                }
                Ok(())
            }
            RunOutput::Embedding { norm, embedding } => {
                writeln!(
                    f,
                    "embedding  {} dimensions, norm {norm:.4}",
                    embedding.len()
                )?;
                let values: Vec<String> = embedding
                    .iter()
                    .map(|value| format!("{value:.4}"))
                    .collect();
                write!(f, "[{}]", values.join(", "))
            }
        }
    }
}

fn group_digits(value: usize) -> String {
    let digits = value.to_string();
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(group_digits(149_014_314), "149,014,314");
        assert_eq!(group_digits(512), "512");
        assert_eq!(human_bytes(4_045_152), "3.9 MiB");
    }
}
