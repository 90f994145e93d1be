//! Measuring a classifier on a labelled file: `routerc model eval`.
//!
//! Three ways to predict, one set of metrics:
//! - a sequence classifier predicts a label per text → accuracy, per-class precision, recall
//!   and F1, macro F1, and the confusion matrix;
//! - a token classifier predicts entity spans → entity-level precision, recall and F1 per type
//!   (a predicted entity counts only when its type and exact character range match a gold
//!   one), and their micro average;
//! - an embedding model classifies by its nearest exemplars (the baseline, and the way the
//!   `examples` signal works): exemplars come from another file, or the first N of each label
//!   in the data (the rest is scored), or every other text of the data (leave-one-out).
//!
//! Gold labels are matched to the model's labels by [`normalise_label`]. The metric functions
//! take predictions, not models, so they are tested on hand-made data.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::config::Task;
use crate::dataset::{self, normalise_label, LabelledText, Span, SpannedText};
use crate::{LoadOptions, Model, ModelError};

/// How an embedding model scores a label from its exemplars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Similarity {
    /// The cosine similarity of the nearest exemplar.
    Max,
    /// The mean cosine similarity over the label's exemplars.
    Mean,
}

/// Where an embedding model's exemplars come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exemplars {
    /// A labelled file; with `shots`, only the first that many of each label.
    File { path: PathBuf, shots: Option<usize> },
    /// The first that many texts of each label in the evaluated data; the rest is scored.
    Shots(usize),
    /// Every other text of the evaluated data.
    LeaveOneOut,
}

/// What to evaluate.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    pub model: PathBuf,
    pub data: PathBuf,
    /// Required for embedding models, ignored for classifiers.
    pub exemplars: Option<Exemplars>,
    pub similarity: Similarity,
    /// Token classifiers: entities scoring under this are not counted as predicted.
    pub min_score: Option<f32>,
}

/// Precision, recall and F1 of one label.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ClassMetrics {
    pub label: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Gold examples with this label.
    pub support: usize,
    /// Examples predicted as this label.
    pub predicted: usize,
}

fn ratio(numerator: usize, denominator: usize) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

fn f1(precision: f64, recall: f64) -> f64 {
    if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    }
}

/// The metrics of a single-label classifier.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ClassificationMetrics {
    pub examples: usize,
    pub correct: usize,
    pub accuracy: f64,
    /// The unweighted mean F1 over labels that occur in the data or the predictions.
    pub macro_f1: f64,
    pub classes: Vec<ClassMetrics>,
    /// `confusion[gold][predicted]`, indexed like `classes`.
    pub confusion: Vec<Vec<usize>>,
}

impl ClassificationMetrics {
    /// From `(gold, predicted)` label indices into `labels`.
    pub fn compute(labels: &[String], pairs: &[(usize, usize)]) -> Self {
        let n = labels.len();
        let mut confusion = vec![vec![0usize; n]; n];
        for &(gold, predicted) in pairs {
            confusion[gold][predicted] += 1;
        }
        let classes: Vec<ClassMetrics> = labels
            .iter()
            .enumerate()
            .map(|(index, label)| {
                let support: usize = confusion[index].iter().sum();
                let predicted: usize = confusion.iter().map(|row| row[index]).sum();
                let hits = confusion[index][index];
                let precision = ratio(hits, predicted);
                let recall = ratio(hits, support);
                ClassMetrics {
                    label: label.clone(),
                    precision,
                    recall,
                    f1: f1(precision, recall),
                    support,
                    predicted,
                }
            })
            .collect();
        let correct = (0..n).map(|i| confusion[i][i]).sum();
        let present: Vec<&ClassMetrics> = classes
            .iter()
            .filter(|class| class.support + class.predicted > 0)
            .collect();
        let macro_f1 =
            present.iter().map(|class| class.f1).sum::<f64>() / present.len().max(1) as f64;
        Self {
            examples: pairs.len(),
            correct,
            accuracy: ratio(correct, pairs.len()),
            macro_f1,
            classes,
            confusion,
        }
    }
}

/// Entity-level counts and scores for one type (or all types together).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EntityMetrics {
    pub label: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub gold: usize,
    pub predicted: usize,
    pub correct: usize,
}

impl EntityMetrics {
    fn new(label: String, gold: usize, predicted: usize, correct: usize) -> Self {
        let precision = ratio(correct, predicted);
        let recall = ratio(correct, gold);
        Self {
            label,
            precision,
            recall,
            f1: f1(precision, recall),
            gold,
            predicted,
            correct,
        }
    }
}

/// The metrics of a token classifier, by entity.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EntityReport {
    pub texts: usize,
    /// One entry per type found in the gold data or the predictions, sorted by name.
    pub types: Vec<EntityMetrics>,
    /// All types pooled.
    pub micro: EntityMetrics,
}

impl EntityReport {
    /// Compares predicted spans with gold spans, text by text: a prediction is correct when a
    /// gold span has the same type, start and end (each gold span matches at most once).
    pub fn compute(gold: &[Vec<Span>], predicted: &[Vec<Span>]) -> Self {
        use std::collections::BTreeMap;
        let mut counts: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
        for (gold, predicted) in gold.iter().zip(predicted) {
            let mut unmatched: Vec<&Span> = gold.iter().collect();
            for span in gold {
                counts.entry(span.label.clone()).or_default().0 += 1;
            }
            for span in predicted {
                let entry = counts.entry(span.label.clone()).or_default();
                entry.1 += 1;
                if let Some(position) = unmatched.iter().position(|g| *g == span) {
                    unmatched.remove(position);
                    entry.2 += 1;
                }
            }
        }
        let types: Vec<EntityMetrics> = counts
            .into_iter()
            .map(|(label, (g, p, c))| EntityMetrics::new(label, g, p, c))
            .collect();
        let micro = EntityMetrics::new(
            "all".to_string(),
            types.iter().map(|t| t.gold).sum(),
            types.iter().map(|t| t.predicted).sum(),
            types.iter().map(|t| t.correct).sum(),
        );
        Self {
            texts: gold.len(),
            types,
            micro,
        }
    }
}

/// What was measured.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EvalResult {
    Classification(ClassificationMetrics),
    Entities(EntityReport),
}

/// `routerc model eval`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EvalReport {
    pub model: String,
    pub data: String,
    /// `classifier`, `token classifier`, or how exemplars were chosen and scored.
    pub method: String,
    /// Exemplars used per scored text (embedding models only).
    pub exemplars: Option<usize>,
    #[serde(flatten)]
    pub result: EvalResult,
}

/// Maps each example's label to an index into `labels`; an unknown label is an error.
pub fn gold_indices(
    path: &Path,
    labels: &[String],
    examples: &[LabelledText],
) -> Result<Vec<usize>, ModelError> {
    let normalised: Vec<String> = labels.iter().map(|label| normalise_label(label)).collect();
    examples
        .iter()
        .map(|example| {
            let wanted = normalise_label(&example.label);
            normalised
                .iter()
                .position(|label| *label == wanted)
                .ok_or_else(|| ModelError::Data {
                    path: path.to_path_buf(),
                    message: format!(
                        "label `{}` is not one of the model's labels ({})",
                        example.label,
                        labels.join(", ")
                    ),
                })
        })
        .collect()
}

/// Scores `examples` with `predict` (label indices for a batch of texts).
pub fn evaluate_with(
    path: &Path,
    labels: &[String],
    examples: &[LabelledText],
    mut predict: impl FnMut(&[&str]) -> Result<Vec<usize>, ModelError>,
) -> Result<ClassificationMetrics, ModelError> {
    let gold = gold_indices(path, labels, examples)?;
    let mut pairs = Vec::with_capacity(examples.len());
    for (chunk, gold) in examples.chunks(BATCH).zip(gold.chunks(BATCH)) {
        let texts: Vec<&str> = chunk.iter().map(|e| e.text.as_str()).collect();
        let predicted = predict(&texts)?;
        pairs.extend(gold.iter().copied().zip(predicted));
    }
    Ok(ClassificationMetrics::compute(labels, &pairs))
}

/// Scores spanned texts with `predict` (entity spans, byte offsets, for each text).
pub fn evaluate_spans_with(
    examples: &[SpannedText],
    mut predict: impl FnMut(&[&str]) -> Result<Vec<Vec<Span>>, ModelError>,
) -> Result<EntityReport, ModelError> {
    let mut predicted = Vec::with_capacity(examples.len());
    for chunk in examples.chunks(BATCH) {
        let texts: Vec<&str> = chunk.iter().map(|e| e.text.as_str()).collect();
        predicted.extend(predict(&texts)?);
    }
    let gold: Vec<Vec<Span>> = examples.iter().map(|e| e.entities.clone()).collect();
    Ok(EntityReport::compute(&gold, &predicted))
}

const BATCH: usize = 16;

/// Loads the model and evaluates it on the data as `options` say.
pub fn evaluate(options: &EvalOptions) -> Result<EvalReport, ModelError> {
    let model = Model::load(&options.model, &LoadOptions::default())?;
    let path = &options.data;
    let (method, exemplar_count, result) = match model.info().task {
        Task::SequenceClassification => {
            let examples = dataset::read_labelled(path)?;
            let metrics = evaluate_with(path, model.labels(), &examples, |texts| {
                Ok(model
                    .classify(texts)?
                    .into_iter()
                    .map(|c| c.label_id)
                    .collect())
            })?;
            (
                "classifier".to_string(),
                None,
                EvalResult::Classification(metrics),
            )
        }
        Task::TokenClassification => {
            let examples = dataset::read_spanned(path)?;
            let report = evaluate_spans_with(&examples, |texts| {
                Ok(model
                    .classify_tokens(texts)?
                    .into_iter()
                    .map(|result| {
                        result
                            .entities
                            .into_iter()
                            .filter(|entity| options.min_score.is_none_or(|m| entity.score >= m))
                            .map(|entity| Span {
                                start: entity.start,
                                end: entity.end,
                                label: entity.label,
                            })
                            .collect()
                    })
                    .collect())
            })?;
            let method = match options.min_score {
                Some(m) => format!("token classifier, entities scoring at least {m}"),
                None => "token classifier".to_string(),
            };
            (method, None, EvalResult::Entities(report))
        }
        Task::SentenceEmbedding => {
            let (method, count, metrics) = evaluate_exemplars(&model, options)?;
            (method, Some(count), EvalResult::Classification(metrics))
        }
    };
    Ok(EvalReport {
        model: options.model.display().to_string(),
        data: path.display().to_string(),
        method,
        exemplars: exemplar_count,
        result,
    })
}

/// Embeds texts in batches of similar length.
fn embed_all(model: &Model, texts: &[&str]) -> Result<Vec<Vec<f32>>, ModelError> {
    let mut order: Vec<usize> = (0..texts.len()).collect();
    order.sort_by_key(|&i| texts[i].len());
    let mut vectors = vec![Vec::new(); texts.len()];
    for chunk in order.chunks(BATCH) {
        let batch: Vec<&str> = chunk.iter().map(|&i| texts[i]).collect();
        for (&index, vector) in chunk.iter().zip(model.embed(&batch)?) {
            vectors[index] = vector;
        }
    }
    Ok(vectors)
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The label with the best score for `vector` among `exemplars` (vector, label index);
/// `skip` leaves one exemplar out.
pub fn nearest_label(
    vector: &[f32],
    exemplars: &[(Vec<f32>, usize)],
    labels: usize,
    similarity: Similarity,
    skip: Option<usize>,
) -> usize {
    let mut best = vec![f32::NEG_INFINITY; labels];
    let mut sums = vec![0f32; labels];
    let mut counts = vec![0usize; labels];
    for (index, (exemplar, label)) in exemplars.iter().enumerate() {
        if skip == Some(index) {
            continue;
        }
        let score = dot(vector, exemplar);
        best[*label] = best[*label].max(score);
        sums[*label] += score;
        counts[*label] += 1;
    }
    let scores: Vec<f32> = match similarity {
        Similarity::Max => best,
        Similarity::Mean => sums
            .iter()
            .zip(&counts)
            .map(|(sum, &count)| {
                if count == 0 {
                    f32::NEG_INFINITY
                } else {
                    sum / count as f32
                }
            })
            .collect(),
    };
    scores
        .iter()
        .enumerate()
        .fold(0, |best, (i, s)| if *s > scores[best] { i } else { best })
}

fn first_per_label(examples: &[LabelledText], shots: usize) -> (Vec<usize>, Vec<usize>) {
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let (mut taken, mut rest) = (Vec::new(), Vec::new());
    for (index, example) in examples.iter().enumerate() {
        let count = seen.entry(normalise_label(&example.label)).or_default();
        if *count < shots {
            *count += 1;
            taken.push(index);
        } else {
            rest.push(index);
        }
    }
    (taken, rest)
}

fn evaluate_exemplars(
    model: &Model,
    options: &EvalOptions,
) -> Result<(String, usize, ClassificationMetrics), ModelError> {
    let data = dataset::read_labelled(&options.data)?;
    let Some(source) = &options.exemplars else {
        return Err(ModelError::InvalidOption {
            option: "exemplars".to_string(),
            message: "an embedding model classifies by exemplars: give `--exemplars FILE`, \
                      `--shots N` or `--leave-one-out`"
                .to_string(),
        });
    };
    let similarity = match options.similarity {
        Similarity::Max => "nearest exemplar",
        Similarity::Mean => "mean similarity",
    };
    // (exemplar texts with labels, scored texts, whether each scored text skips itself)
    let (exemplars, scored, leave_one_out, method) = match source {
        Exemplars::File { path, shots } => {
            let all = dataset::read_labelled(path)?;
            let exemplars = match shots {
                Some(n) => first_per_label(&all, *n)
                    .0
                    .into_iter()
                    .map(|i| all[i].clone())
                    .collect(),
                None => all,
            };
            let method = format!(
                "{similarity}, exemplars from `{}`{}",
                path.display(),
                shots.map_or(String::new(), |n| format!(" (first {n} per label)"))
            );
            (exemplars, data, false, method)
        }
        Exemplars::Shots(n) => {
            let (taken, rest) = first_per_label(&data, *n);
            let exemplars = taken.into_iter().map(|i| data[i].clone()).collect();
            let scored = rest.into_iter().map(|i| data[i].clone()).collect();
            let method =
                format!("{similarity}, first {n} texts per label as exemplars, the rest scored");
            (exemplars, scored, false, method)
        }
        Exemplars::LeaveOneOut => (
            data.clone(),
            data,
            true,
            format!("{similarity}, leave-one-out over the data"),
        ),
    };
    if scored.is_empty() || exemplars.is_empty() {
        return Err(ModelError::Data {
            path: options.data.clone(),
            message: "nothing is left to score after choosing the exemplars".to_string(),
        });
    }
    let mut labels: Vec<String> = exemplars.iter().map(|e| e.label.clone()).collect();
    labels.sort_by_key(|label| normalise_label(label));
    labels.dedup_by_key(|label| normalise_label(label));
    let exemplar_path = match source {
        Exemplars::File { path, .. } => path.clone(),
        _ => options.data.clone(),
    };
    let exemplar_labels = gold_indices(&exemplar_path, &labels, &exemplars)?;
    let exemplar_texts: Vec<&str> = exemplars.iter().map(|e| e.text.as_str()).collect();
    let exemplar_vectors: Vec<(Vec<f32>, usize)> = embed_all(model, &exemplar_texts)?
        .into_iter()
        .zip(exemplar_labels)
        .collect();
    let gold = gold_indices(&options.data, &labels, &scored)?;
    let scored_texts: Vec<&str> = scored.iter().map(|e| e.text.as_str()).collect();
    let vectors = if leave_one_out {
        exemplar_vectors.iter().map(|(v, _)| v.clone()).collect()
    } else {
        embed_all(model, &scored_texts)?
    };
    let pairs: Vec<(usize, usize)> = vectors
        .iter()
        .enumerate()
        .map(|(index, vector)| {
            let skip = leave_one_out.then_some(index);
            let predicted = nearest_label(
                vector,
                &exemplar_vectors,
                labels.len(),
                options.similarity,
                skip,
            );
            (gold[index], predicted)
        })
        .collect();
    let count = exemplar_vectors.len() - usize::from(leave_one_out);
    Ok((
        method,
        count,
        ClassificationMetrics::compute(&labels, &pairs),
    ))
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "model     {}", self.model)?;
        writeln!(f, "method    {}", self.method)?;
        if let Some(count) = self.exemplars {
            writeln!(f, "exemplars {count}")?;
        }
        writeln!(f, "data      {}", self.data)?;
        match &self.result {
            EvalResult::Classification(metrics) => write!(f, "{metrics}"),
            EvalResult::Entities(report) => write!(f, "{report}"),
        }
    }
}

impl fmt::Display for ClassificationMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "accuracy  {:.4} ({}/{}), macro F1 {:.4}",
            self.accuracy, self.correct, self.examples, self.macro_f1
        )?;
        let width = self
            .classes
            .iter()
            .map(|c| c.label.chars().count())
            .max()
            .unwrap_or(0)
            .max(5);
        writeln!(
            f,
            "\n{:>3}  {:width$}  {:>9}  {:>6}  {:>6}  {:>7}  {:>9}",
            "#", "label", "precision", "recall", "F1", "support", "predicted"
        )?;
        for (index, class) in self.classes.iter().enumerate() {
            writeln!(
                f,
                "{:>3}  {:width$}  {:>9.4}  {:>6.4}  {:>6.4}  {:>7}  {:>9}",
                index,
                class.label,
                class.precision,
                class.recall,
                class.f1,
                class.support,
                class.predicted
            )?;
        }
        writeln!(
            f,
            "\nconfusion matrix (rows: true label #, columns: predicted label #)"
        )?;
        let cell = self
            .confusion
            .iter()
            .flatten()
            .max()
            .map_or(1, |max| max.to_string().len())
            .max(self.classes.len().saturating_sub(1).to_string().len());
        write!(f, "{:>3} ", "")?;
        for index in 0..self.classes.len() {
            write!(f, " {index:>cell$}")?;
        }
        writeln!(f)?;
        for (index, row) in self.confusion.iter().enumerate() {
            write!(f, "{index:>3} ")?;
            for count in row {
                if *count == 0 {
                    write!(f, " {:>cell$}", ".")?;
                } else {
                    write!(f, " {count:>cell$}")?;
                }
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

impl fmt::Display for EntityReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "entities  {} gold in {} texts; micro precision {:.4}, recall {:.4}, F1 {:.4}",
            self.micro.gold, self.texts, self.micro.precision, self.micro.recall, self.micro.f1
        )?;
        let width = self
            .types
            .iter()
            .map(|t| t.label.chars().count())
            .max()
            .unwrap_or(0)
            .max(4);
        writeln!(
            f,
            "\n{:width$}  {:>9}  {:>6}  {:>6}  {:>5}  {:>9}  {:>7}",
            "type", "precision", "recall", "F1", "gold", "predicted", "correct"
        )?;
        for t in self.types.iter().chain([&self.micro]) {
            writeln!(
                f,
                "{:width$}  {:>9.4}  {:>6.4}  {:>6.4}  {:>5}  {:>9}  {:>7}",
                t.label, t.precision, t.recall, t.f1, t.gold, t.predicted, t.correct
            )?;
        }
        Ok(())
    }
}
