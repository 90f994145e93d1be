//! The command-line faces of model training and evaluation: `routerc train` and
//! `routerc model eval`. Argument parsing lives here so `main.rs` only dispatches; the work is
//! done by `routerc_models::train` and `routerc_models::eval`.

use std::path::PathBuf;
use std::process::ExitCode;

use routerc_models::eval::{self, EvalOptions, Exemplars, Similarity};
use routerc_models::modernbert::Pooling;
use routerc_models::train::{self, Shape, TrainOptions};
use routerc_models::{ModelError, Task};

#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum TrainTask {
    /// One label per text (`ModernBertForSequenceClassification`).
    Sequence,
    /// BIO labels per token (`ModernBertForTokenClassification`).
    Token,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum PoolingArg {
    Mean,
    Cls,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum SimilarityArg {
    /// The nearest exemplar's cosine similarity.
    Max,
    /// The mean cosine similarity over a label's exemplars.
    Mean,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum OutputFormat {
    Human,
    Json,
}

/// `routerc train`: train a ModernBERT classifier with candle and save it as a Hugging Face
/// model directory (see models/README.md).
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    #[arg(long, value_enum)]
    task: TrainTask,
    /// Labelled data: JSON Lines, JSON or CSV of text + label; for `token`, text + entities.
    #[arg(long)]
    data: PathBuf,
    /// The model directory to write.
    #[arg(long)]
    out: PathBuf,
    /// The tokenizer.json the model will use.
    #[arg(long)]
    tokenizer: PathBuf,
    /// Label names in id order (comma-separated); for `token`, the entity types.
    #[arg(long, value_delimiter = ',')]
    labels: Option<Vec<String>>,
    /// A BERT model directory whose word embeddings, projected by PCA, start the token
    /// embeddings.
    #[arg(long)]
    init_embeddings: Option<PathBuf>,
    /// Keep the token embeddings as initialised.
    #[arg(long)]
    freeze_embeddings: bool,
    #[arg(long, default_value_t = 128)]
    hidden: usize,
    #[arg(long, default_value_t = 4)]
    layers: usize,
    #[arg(long, default_value_t = 4)]
    heads: usize,
    #[arg(long, default_value_t = 256)]
    intermediate: usize,
    #[arg(long, value_enum, default_value = "mean")]
    pooling: PoolingArg,
    /// Training inputs are cut to this many tokens.
    #[arg(long, default_value_t = 128)]
    max_length: usize,
    #[arg(long, default_value_t = 3)]
    epochs: usize,
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    #[arg(long, default_value_t = 0.01)]
    weight_decay: f64,
    /// The probability of replacing a text token by `[UNK]` in a training batch.
    #[arg(long, default_value_t = 0.0)]
    token_dropout: f64,
    #[arg(long, default_value_t = 17)]
    seed: u64,
}

/// `routerc model eval`: accuracy, per-class precision / recall / F1 and a confusion matrix
/// (entity F1 per type for token classifiers); embedding models classify by exemplars.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// A model directory (classifier, token classifier or embedding model).
    dir: PathBuf,
    /// Labelled data: JSON Lines, JSON (also `{labels: {name: {exemplars}}}`) or CSV.
    #[arg(long)]
    data: PathBuf,
    /// Embedding models: the labelled exemplars to compare with.
    #[arg(long, conflicts_with = "leave_one_out")]
    exemplars: Option<PathBuf>,
    /// Embedding models: use only the first N exemplars per label; without `--exemplars`, the
    /// first N texts per label of the data are the exemplars and the rest is scored.
    #[arg(long)]
    shots: Option<usize>,
    /// Embedding models: score each text against all the others.
    #[arg(long)]
    leave_one_out: bool,
    #[arg(long, value_enum, default_value = "max")]
    similarity: SimilarityArg,
    /// Token classifiers: count only entities scoring at least this, as the PII signal does
    /// (it drops entities under 0.5).
    #[arg(long)]
    min_score: Option<f32>,
    #[arg(long, value_enum, default_value = "human")]
    format: OutputFormat,
}

fn fail(error: ModelError) -> ExitCode {
    eprintln!("error: {error}");
    if let Some(help) = error.help() {
        eprintln!("  help: {help}");
    }
    ExitCode::from(1)
}

pub fn run_train(args: TrainArgs) -> ExitCode {
    let task = match args.task {
        TrainTask::Sequence => Task::SequenceClassification,
        TrainTask::Token => Task::TokenClassification,
    };
    let mut options = TrainOptions::new(task, args.data, args.out, args.tokenizer);
    options.labels = args.labels;
    options.init_embeddings = args.init_embeddings;
    options.freeze_embeddings = args.freeze_embeddings;
    options.shape = Shape {
        hidden: args.hidden,
        layers: args.layers,
        heads: args.heads,
        intermediate: args.intermediate,
        ..Shape::default()
    };
    options.pooling = match args.pooling {
        PoolingArg::Mean => Pooling::Mean,
        PoolingArg::Cls => Pooling::Cls,
    };
    options.max_length = args.max_length;
    options.epochs = args.epochs;
    options.batch_size = args.batch_size;
    options.learning_rate = args.lr;
    options.weight_decay = args.weight_decay;
    options.token_dropout = args.token_dropout;
    options.seed = args.seed;
    match train::train(&options, &mut |line| eprintln!("{line}")) {
        Ok(report) => {
            println!(
                "saved {} ({} parameters, {} trainable, {} bytes of weights)\n\
                 {} examples, {} steps, loss {:.4} -> {:.4}, {:.0} s\n\
                 reloaded: logits within {:.2e} of the trained network on {} examples",
                report.out.display(),
                report.parameters,
                report.trainable_parameters,
                report.weights_bytes,
                report.examples,
                report.steps,
                report.first_loss,
                report.last_loss,
                report.seconds,
                report.reload_max_difference,
                report.reload_checked
            );
            ExitCode::SUCCESS
        }
        Err(error) => fail(error),
    }
}

pub fn run_eval(args: EvalArgs) -> ExitCode {
    let exemplars = match (args.exemplars, args.shots, args.leave_one_out) {
        (Some(path), shots, _) => Some(Exemplars::File { path, shots }),
        (None, Some(n), false) => Some(Exemplars::Shots(n)),
        (None, None, true) => Some(Exemplars::LeaveOneOut),
        (None, Some(_), true) => {
            eprintln!(
                "error: `--shots` without `--exemplars` cannot be combined with `--leave-one-out`"
            );
            return ExitCode::from(2);
        }
        (None, None, false) => None,
    };
    let options = EvalOptions {
        model: args.dir,
        data: args.data,
        exemplars,
        similarity: match args.similarity {
            SimilarityArg::Max => Similarity::Max,
            SimilarityArg::Mean => Similarity::Mean,
        },
        min_score: args.min_score,
    };
    match eval::evaluate(&options) {
        Ok(report) if args.format == OutputFormat::Json => {
            match serde_json::to_string_pretty(&report) {
                Ok(json) => {
                    println!("{json}");
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("error: cannot write the report: {error}");
                    ExitCode::from(2)
                }
            }
        }
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(error) => fail(error),
    }
}
