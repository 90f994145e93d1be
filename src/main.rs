//! The `routerc` command line.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use routerc::diagnostic::{codes, Severity};
use routerc::engine::{self, signals::Signals, CompiledPolicy};
use routerc::render::{self, Format};
use routerc::signals::{self as sig, ModelCache, ModelSearch, SignalPlan};
use routerc::source::FileSystem;

// Checking builds and drops a tree of many small nodes, and the gateway allocates per request
// and frees on other threads: mimalloc does both faster than the system allocator (the front
// end's figures in BENCHMARKS.md, side by side). The benchmarks declare the same allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "routerc",
    version,
    about = "Compiler, language server and gateway for LLM routing policies"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand)]
enum Command {
    /// Check policies: every diagnostic, then exit 0 (clean or warnings only), 1 (errors) or 2
    /// (usage, or a file that cannot be read).
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
        #[arg(long, value_enum, default_value = "auto")]
        color: Color,
        /// Treat warnings as errors (exit 1 when there are any).
        #[arg(long)]
        deny_warnings: bool,
        #[command(flatten)]
        models: ModelsArg,
    },
    /// Rewrite policies in the one canonical form.
    Fmt {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Change nothing; exit 1 if any file is not formatted.
        #[arg(long)]
        check: bool,
    },
    /// Compile a policy into a bundle that `routerc serve` loads without the source, or print
    /// an intermediate form.
    Compile {
        policy: PathBuf,
        /// Where to write the bundle.
        #[arg(short, long, required_unless_present = "emit")]
        output: Option<PathBuf>,
        /// Print an intermediate form instead of (or besides) writing the bundle.
        #[arg(long, value_enum)]
        emit: Option<EmitForm>,
        #[command(flatten)]
        models: ModelsArg,
    },
    /// Decide on signal values given in a JSON file, or computed from a chat request with the
    /// real extractors and models, and print the decision as JSON.
    Eval {
        /// A policy source or a compiled bundle.
        policy: PathBuf,
        /// A JSON object from signal name to value; signals it leaves out are absent.
        #[arg(long, required_unless_present = "request", conflicts_with = "request")]
        signals: Option<PathBuf>,
        /// An OpenAI chat completion request body: the signals are computed from it and
        /// printed beside the decision.
        #[arg(long)]
        request: Option<PathBuf>,
        /// A request header for `--request`, as `NAME: VALUE` (repeatable).
        #[arg(long = "header", requires = "request")]
        headers: Vec<String>,
        /// The authenticated caller's user for `--request` (`identity.user`), as the
        /// gateway's API keys would give it.
        #[arg(long, requires = "request")]
        user: Option<String>,
        /// The authenticated caller's role for `--request` (`identity.role`).
        #[arg(long, requires = "request")]
        role: Option<String>,
        #[command(flatten)]
        models: ModelsArg,
        /// Also say which routes were tried and which test failed in each.
        #[arg(long)]
        explain: bool,
        /// Decide with the reference interpreter instead of native code.
        #[arg(long)]
        interpret: bool,
    },
    /// Run the `test` blocks of policies; exit 1 if any fails.
    Test {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Inspect and run the model directories behind neural signals.
    Model {
        #[command(subcommand)]
        command: ModelCommand,
    },
    /// Train a ModernBERT classifier with candle into a model directory (models/README.md).
    Train(routerc::modelcli::TrainArgs),
    /// Run the language server on stdin and stdout (editors start it; see README.md).
    Lsp {
        /// Accepted for editors' clients that pass it; stdio is the only transport.
        #[arg(long)]
        stdio: bool,
    },
    /// Convert a policy: `.route` or YAML (routerc's form or a vLLM Semantic Router config) to
    /// `.route` or routerc YAML, printed on stdout. Exit 1 when the policy has errors.
    Convert {
        file: PathBuf,
        #[arg(long, value_enum)]
        to: routerc::yaml::Target,
    },
    /// Explain a diagnostic code, such as `E0201`; `--all` prints the whole table as Markdown
    /// (docs/diagnostics.md is generated with it).
    Explain {
        #[arg(required_unless_present = "all")]
        code: Option<String>,
        #[arg(long)]
        all: bool,
    },
    /// Serve the OpenAI-compatible gateway: `POST /v1/chat/completions` decided by the policy
    /// and forwarded to its backends (see docs/gateway.md).
    Serve {
        /// A policy source or a compiled bundle.
        #[arg(long)]
        policy: PathBuf,
        /// The address to listen on; port 0 picks a free port (printed on stderr).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// A `model` name that lets the policy decide (repeatable).
        #[arg(long = "auto-model", default_value = "auto")]
        auto_models: Vec<String>,
        /// The largest request body accepted, in bytes (larger ones get a 413).
        #[arg(long, default_value_t = 4 << 20)]
        max_body: usize,
        /// How often, in milliseconds, the policy's files are checked for changes to reload
        /// them; 0 reloads only on SIGHUP.
        #[arg(long, default_value_t = 500)]
        reload_poll_ms: u64,
        /// A client must send its request headers within this many milliseconds.
        #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
        header_timeout_ms: u64,
        /// A client must send its request body within this many milliseconds (else a 408).
        #[arg(long, default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(1..))]
        body_timeout_ms: u64,
        /// On SIGTERM or SIGINT, how long in milliseconds requests and streams in flight may
        /// take to finish before the gateway exits.
        #[arg(long, default_value_t = 30_000)]
        drain_timeout_ms: u64,
        /// A PEM file of certificate authorities trusted for https backends, besides the
        /// built-in web roots.
        #[arg(long)]
        ca_file: Option<PathBuf>,
        /// A file of API keys, one `KEY USER [ROLE]` a line; requests must then carry
        /// `Authorization: Bearer KEY` (the `ROUTERC_API_KEYS` variable may hold more).
        #[arg(long)]
        api_keys: Option<PathBuf>,
        /// A header, set by a trusted proxy in front, that gives the caller's user.
        #[arg(long)]
        trust_user_header: Option<String>,
        /// A header, set by a trusted proxy in front, that gives the caller's role.
        #[arg(long)]
        trust_role_header: Option<String>,
        #[command(flatten)]
        models: ModelsArg,
    },
}

/// Where model names are looked up first (docs/language.md, "Models").
#[derive(clap::Args)]
struct ModelsArg {
    /// A folder of model directories, searched before `ROUTERC_MODELS` and the `models/`
    /// folders beside the policy (repeatable).
    #[arg(long = "models", value_name = "DIR")]
    dirs: Vec<PathBuf>,
}

impl ModelsArg {
    fn search(&self) -> ModelSearch {
        ModelSearch::new(&self.dirs)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum EmitForm {
    /// The syntax tree of each source file.
    Ast,
    /// The decision IR.
    Ir,
    /// Cranelift IR of the decision function.
    Clif,
    /// The machine instructions of the decision function.
    Asm,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ReportFormat {
    Human,
    Json,
}

#[derive(Subcommand)]
enum ModelCommand {
    /// Architecture, task, labels, size and dtype of a model directory.
    Inspect {
        dir: PathBuf,
        #[arg(long, value_enum, default_value = "human")]
        format: ReportFormat,
    },
    /// Tokenise a text and run the model on it: input ids and logits, probabilities or the
    /// embedding.
    Run {
        dir: PathBuf,
        #[arg(long)]
        text: String,
        #[arg(long, value_enum, default_value = "human")]
        format: ReportFormat,
    },
    /// Measure a model on a labelled file: accuracy, per-class precision / recall / F1 and a
    /// confusion matrix, entity F1 for token classifiers, exemplars for embedding models.
    Eval(routerc::modelcli::EvalArgs),
}

fn main() -> ExitCode {
    // Before anything else starts a thread: one inference runs on one thread (see
    // routerc_models::threads for why).
    routerc_models::threads::use_one_thread_per_inference();
    let cli = Cli::parse();
    match cli.command {
        Command::Model { command } => model(command),
        Command::Train(args) => routerc::modelcli::run_train(args),
        Command::Check {
            files,
            format,
            color,
            deny_warnings,
            models,
        } => check(&files, format, color, deny_warnings, &models.search()),
        Command::Fmt { files, check } => fmt(&files, check),
        Command::Compile {
            policy,
            output,
            emit,
            models,
        } => compile(&policy, output.as_deref(), emit, &models.search()),
        Command::Eval {
            policy,
            signals,
            request,
            headers,
            user,
            role,
            models,
            explain,
            interpret,
        } => match (signals, request) {
            (Some(signals), _) => eval(&policy, &signals, explain, interpret),
            (None, Some(request)) => eval_request(
                &policy,
                &request,
                &headers,
                (user.as_deref(), role.as_deref()),
                &models.search(),
                explain,
                interpret,
            ),
            (None, None) => ExitCode::from(2),
        },
        Command::Test { files } => test(&files),
        Command::Serve {
            policy,
            listen,
            auto_models,
            max_body,
            reload_poll_ms,
            header_timeout_ms,
            body_timeout_ms,
            drain_timeout_ms,
            ca_file,
            api_keys,
            trust_user_header,
            trust_role_header,
            models,
        } => serve(routerc::gateway::Options {
            policy,
            listen,
            auto_models,
            max_body,
            reload_poll: (reload_poll_ms > 0).then(|| Duration::from_millis(reload_poll_ms)),
            header_timeout: Duration::from_millis(header_timeout_ms),
            body_timeout: Duration::from_millis(body_timeout_ms),
            drain_timeout: Duration::from_millis(drain_timeout_ms),
            ca_file,
            identity: routerc::gateway::identity::IdentityOptions {
                keys_file: api_keys,
                keys_env: std::env::var(routerc::gateway::identity::KEYS_ENV).ok(),
                user_header: trust_user_header,
                role_header: trust_role_header,
            },
            models: models.search(),
            color: stderr_color(),
        }),
        Command::Lsp { stdio: _ } => match routerc::lsp::run_stdio() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: language server: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Convert { file, to } => ExitCode::from(routerc::yaml::run_convert(
            &file,
            to,
            &mut io::stdout(),
            &mut io::stderr(),
        )),
        Command::Explain { code, all } => match (code, all) {
            (_, true) => {
                print!("{}", diagnostics_markdown());
                ExitCode::SUCCESS
            }
            (Some(code), false) => explain(&code),
            (None, false) => ExitCode::from(2),
        },
    }
}

fn check(
    files: &[PathBuf],
    format: Format,
    color: Color,
    deny_warnings: bool,
    search: &ModelSearch,
) -> ExitCode {
    let color = match color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let (mut errors, mut warnings, mut unreadable) = (0, 0, false);
    let mut all = Vec::new();
    for file in files {
        if !file.is_file() {
            let reason = if file.exists() {
                "not a file"
            } else {
                "no such file"
            };
            eprintln!("error: cannot read `{}`: {reason}", file.display());
            unreadable = true;
            continue;
        }
        let (program, mut checked) = routerc::check_file(file, &FileSystem);
        if let Some(policy) = &checked.policy {
            for d in sig::check::check_models(&program, policy, file.parent(), search) {
                checked.diagnostics.push(d);
            }
        }
        let diagnostics = checked.diagnostics.sorted();
        errors += diagnostics
            .iter()
            .filter(|d| d.severity() == Severity::Error)
            .count();
        warnings += diagnostics
            .iter()
            .filter(|d| d.severity() == Severity::Warning)
            .count();
        if let Err(e) = render::write(&mut out, &program.sources, &diagnostics, format, color) {
            eprintln!("error: cannot write diagnostics: {e}");
            return ExitCode::from(2);
        }
        all.extend(diagnostics.into_iter().cloned());
    }
    if format != Format::Json && !all.is_empty() {
        let refs: Vec<_> = all.iter().collect();
        let _ = writeln!(out, "{}", render::summary(&refs));
    }
    if unreadable {
        ExitCode::from(2)
    } else if errors > 0 || (deny_warnings && warnings > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn fmt(files: &[PathBuf], check_only: bool) -> ExitCode {
    let mut status = 0u8;
    for file in files {
        // YAML keeps its author's layout and comments; the canonical YAML is what `convert`
        // writes (without comments), so `fmt` does not rewrite YAML behind the author's back.
        if routerc::yaml::is_yaml_path(file) {
            eprintln!(
                "error: `{}` is YAML; `routerc fmt` formats `.route` files (`routerc convert {} --to yaml` prints the canonical YAML form, without comments)",
                file.display(),
                file.display()
            );
            status = 2;
            continue;
        }
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: cannot read `{}`: {e}", file.display());
                status = 2;
                continue;
            }
        };
        let formatted = match routerc::fmt::format_source(&text) {
            Ok(f) => f,
            Err(e) => {
                eprintln!(
                    "error: `{}` does not parse ({e}); run `routerc check` on it",
                    file.display()
                );
                status = status.max(1);
                continue;
            }
        };
        if formatted == text {
            continue;
        }
        if check_only {
            println!("{} would be reformatted", file.display());
            status = status.max(1);
        } else if let Err(e) = std::fs::write(file, formatted) {
            eprintln!("error: cannot write `{}`: {e}", file.display());
            status = 2;
        }
    }
    ExitCode::from(status)
}

/// Loads a policy or bundle for the engine, printing what stops it (exit 1 for errors in the
/// policy, 2 for a file that cannot be read).
fn load(path: &Path) -> Result<engine::Loaded, u8> {
    match engine::load(path, &FileSystem) {
        Ok(loaded) => Ok(loaded),
        Err(engine::LoadError::Io(m)) => {
            eprintln!("error: {m}");
            Err(2)
        }
        Err(engine::LoadError::Bundle(e)) => {
            eprintln!("error: `{}`: {e}", path.display());
            Err(1)
        }
        Err(engine::LoadError::Diagnostics(sources, diagnostics)) => {
            let sorted = diagnostics.sorted();
            eprintln!(
                "{}",
                render::human_report(&sources.sources, &sorted, stderr_color())
            );
            Err(1)
        }
    }
}

/// Whether diagnostics on stderr are coloured: a terminal, and `NO_COLOR` unset.
fn stderr_color() -> bool {
    io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn compiled(program: engine::ir::Program, emit: engine::jit::Emit) -> Result<CompiledPolicy, u8> {
    CompiledPolicy::with_emit(program, emit).map_err(|e| {
        eprintln!("error: {e}");
        1
    })
}

/// Reports the `E05xx` diagnostics of a policy source (models or example files missing);
/// `Err(1)` when there are any. Bundles have no source to point into: their problems are
/// found when the plan is prepared.
fn check_models(path: &Path, loaded: &engine::Loaded, search: &ModelSearch) -> Result<(), u8> {
    let (Some(policy), Some((sources, _))) = (&loaded.policy, &loaded.sources) else {
        return Ok(());
    };
    let found = sig::check::check_models(sources, policy, path.parent(), search);
    if found.is_empty() {
        return Ok(());
    }
    let sorted: Vec<_> = found.iter().collect();
    eprintln!(
        "{}",
        render::human_report(&sources.sources, &sorted, stderr_color())
    );
    Err(1)
}

/// Checks, then prepares the policy's signals: models loaded (once per process), labels
/// bound, example sentences embedded.
fn signal_plan(
    path: &Path,
    loaded: &engine::Loaded,
    search: &ModelSearch,
) -> Result<SignalPlan, u8> {
    check_models(path, loaded, search)?;
    let options = sig::PlanOptions {
        search,
        policy_dir: path.parent(),
        cache: ModelCache::global(),
    };
    SignalPlan::prepare(&loaded.program, options).map_err(|errors| {
        for e in errors {
            eprintln!("error: {e}");
        }
        1
    })
}

fn serve(options: routerc::gateway::Options) -> ExitCode {
    let listening = |addr| eprintln!("routerc serve: listening on http://{addr}");
    let log: routerc::gateway::Log = std::sync::Arc::new(|line: &str| eprintln!("{line}"));
    match routerc::gateway::run(options, listening, log) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn compile(
    policy: &Path,
    output: Option<&Path>,
    emit: Option<EmitForm>,
    search: &ModelSearch,
) -> ExitCode {
    let loaded = match load(policy) {
        Ok(l) => l,
        Err(code) => return ExitCode::from(code),
    };
    if let Err(code) = check_models(policy, &loaded, search) {
        return ExitCode::from(code);
    }
    let forms = engine::jit::Emit {
        clif: emit == Some(EmitForm::Clif),
        asm: emit == Some(EmitForm::Asm),
    };
    // Compiling to native code also proves the bundle will load in the gateway.
    let policy_code = match compiled(loaded.program.clone(), forms) {
        Ok(c) => c,
        Err(code) => return ExitCode::from(code),
    };
    match emit {
        Some(EmitForm::Ast) => match &loaded.sources {
            Some((sources, _)) => {
                for f in &sources.files {
                    println!("{:#?}", f.ast);
                }
            }
            None => {
                eprintln!("error: a bundle holds no syntax tree; pass the policy source");
                return ExitCode::from(2);
            }
        },
        Some(EmitForm::Ir) => print!("{}", engine::show::program(&loaded.program)),
        Some(EmitForm::Clif) => print!("{}", policy_code.jit().clif.as_deref().unwrap_or_default()),
        Some(EmitForm::Asm) => print!("{}", policy_code.jit().asm.as_deref().unwrap_or_default()),
        None => {}
    }
    if let Some(out) = output {
        let sources = loaded
            .sources
            .as_ref()
            .map(|(s, _)| s.sources.files().map(|(_, f)| f.name.clone()).collect())
            .unwrap_or_default();
        let bytes = engine::bundle::write(&engine::bundle::Contents {
            source_hash: loaded.source_hash,
            sources,
            program: loaded.program,
        });
        if let Err(e) = std::fs::write(out, bytes) {
            eprintln!("error: cannot write `{}`: {e}", out.display());
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}

fn eval(policy: &Path, signals: &Path, explain: bool, interpret: bool) -> ExitCode {
    let loaded = match load(policy) {
        Ok(l) => l,
        Err(code) => return ExitCode::from(code),
    };
    let text = match std::fs::read_to_string(signals) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read `{}`: {e}", signals.display());
            return ExitCode::from(2);
        }
    };
    let given = match Signals::parse(&loaded.program, &text) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: `{}`: {e}", signals.display());
            return ExitCode::from(1);
        }
    };
    let engine = match compiled(loaded.program, engine::jit::Emit::default()) {
        Ok(c) => c,
        Err(code) => return ExitCode::from(code),
    };
    let mut frame = engine.frame();
    let mut choices = engine.choices();
    let route = if interpret {
        engine.interpret(&mut frame, &mut given.clone(), &mut choices)
    } else {
        engine.decide(&mut frame, &mut given.clone(), &mut choices)
    };
    let decision = engine.decision(route, &choices, &frame);
    let mut json = decision.to_json(engine.program());
    if explain {
        json["tried"] = engine::explain(&engine, &mut given.clone(), route);
    }
    match serde_json::to_string_pretty(&json) {
        Ok(s) => {
            println!("{s}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot write the decision: {e}");
            ExitCode::from(2)
        }
    }
}

/// `routerc eval --request`: the signals computed from a chat request by the real
/// extractors, the decision, and what each signal found.
fn eval_request(
    policy: &Path,
    request: &Path,
    headers: &[String],
    (user, role): (Option<&str>, Option<&str>),
    search: &ModelSearch,
    explain: bool,
    interpret: bool,
) -> ExitCode {
    let loaded = match load(policy) {
        Ok(l) => l,
        Err(code) => return ExitCode::from(code),
    };
    let body = match std::fs::read(request) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: cannot read `{}`: {e}", request.display());
            return ExitCode::from(2);
        }
    };
    let parsed = match routerc::gateway::request::ChatRequest::parse(&body) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: `{}`: {}", request.display(), e.message);
            return ExitCode::from(1);
        }
    };
    let mut header_pairs = Vec::with_capacity(headers.len());
    for h in headers {
        match h.split_once(':') {
            Some((k, v)) if !k.trim().is_empty() => {
                header_pairs.push((k.trim().to_ascii_lowercase(), v.trim().to_string()))
            }
            _ => {
                eprintln!("error: `--header {h}`: write a header as `NAME: VALUE`");
                return ExitCode::from(2);
            }
        }
    }
    let plan = match signal_plan(policy, &loaded, search) {
        Ok(p) => p,
        Err(code) => return ExitCode::from(code),
    };
    let engine = match compiled(loaded.program, engine::jit::Emit::default()) {
        Ok(c) => c,
        Err(code) => return ExitCode::from(code),
    };
    let headers = header_pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let input = routerc::gateway::signals::request_input(&parsed, headers, user, role);
    let mut source = sig::RequestSignals::new(&plan, &input);
    source.prefetch();
    let mut frame = engine.frame();
    let mut choices = engine.choices();
    let route = if interpret {
        engine.interpret(&mut frame, &mut source, &mut choices)
    } else {
        engine.decide(&mut frame, &mut source, &mut choices)
    };
    let decision = engine.decision(route, &choices, &frame);
    let mut json = decision.to_json(engine.program());
    json["signals"] = source.report(engine.program());
    if explain {
        json["tried"] = engine::explain(&engine, &mut source, route);
    }
    match serde_json::to_string_pretty(&json) {
        Ok(s) => {
            println!("{s}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot write the decision: {e}");
            ExitCode::from(2)
        }
    }
}

fn test(files: &[PathBuf]) -> ExitCode {
    let (mut passed, mut failed, mut status) = (0, 0, 0u8);
    let mut out = io::stdout().lock();
    for file in with_test_files(files) {
        let file = &file;
        let loaded = match load(file) {
            Ok(l) => l,
            Err(code) => {
                status = status.max(code);
                continue;
            }
        };
        let Some(policy) = loaded.policy else {
            eprintln!(
                "error: `{}` is a compiled bundle; tests live in the policy source",
                file.display()
            );
            status = 2;
            continue;
        };
        let engine = match compiled(loaded.program, engine::jit::Emit::default()) {
            Ok(c) => c,
            Err(_) => {
                status = status.max(1);
                continue;
            }
        };
        let report = engine::testing::run(&policy, &engine);
        let _ = write!(out, "{}", report.render(&file.display().to_string()));
        passed += report.passed();
        failed += report.failed();
    }
    let _ = writeln!(out, "{passed} passed, {failed} failed");
    if failed > 0 {
        status = status.max(1);
    }
    ExitCode::from(status)
}

/// The files to test. A policy with a test file beside it (`policy.test.route` beside
/// `policy.route` or `policy.yaml`) is tested through that file, which includes the policy:
/// its own tests and the file's run once, and route coverage counts both.
fn with_test_files(files: &[PathBuf]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for file in files {
        let mut chosen = file.clone();
        if let Some(stem) = file.file_stem().map(|s| s.to_string_lossy().into_owned()) {
            let beside = file.with_file_name(format!("{stem}.test.route"));
            if !stem.ends_with(".test") && beside.is_file() {
                chosen = beside;
            }
        }
        if !out.contains(&chosen) {
            out.push(chosen);
        }
    }
    out
}

fn explain(code: &str) -> ExitCode {
    match codes::find(code) {
        Some(c) => {
            println!(
                "{} ({}): {}\n\n{}",
                c.id,
                c.severity.as_str(),
                c.title,
                c.doc
            );
            ExitCode::SUCCESS
        }
        None => {
            eprintln!("error: there is no diagnostic code `{code}`");
            ExitCode::from(2)
        }
    }
}

/// docs/diagnostics.md: every code with its documentation.
fn diagnostics_markdown() -> String {
    let mut out = String::from(
        "# Diagnostics\n\n\
         Every diagnostic has a stable code: `E` codes are errors (`routerc check` exits 1), `W` codes are\n\
         warnings (exit 0 unless `--deny-warnings`). A code never changes meaning. `routerc explain CODE`\n\
         prints the entry; the language server shows it on hover. This file is generated by\n\
         `routerc explain --all` and a test keeps it in step with the compiler.\n",
    );
    for c in codes::ALL {
        out.push_str(&format!(
            "\n## {}: {}\n\nSeverity: {}.\n\n{}\n",
            c.id,
            c.title,
            c.severity.as_str(),
            c.doc
        ));
    }
    out
}

fn model(command: ModelCommand) -> ExitCode {
    fn print<T: serde::Serialize + std::fmt::Display>(
        report: Result<T, routerc_models::ModelError>,
        format: ReportFormat,
    ) -> ExitCode {
        match report {
            Ok(r) if format == ReportFormat::Json => match serde_json::to_string_pretty(&r) {
                Ok(json) => {
                    println!("{json}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: cannot write the report: {e}");
                    ExitCode::from(2)
                }
            },
            Ok(r) => {
                print!("{r}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                if let Some(help) = e.help() {
                    eprintln!("  help: {help}");
                }
                ExitCode::from(1)
            }
        }
    }
    match command {
        ModelCommand::Inspect { dir, format } => {
            print(routerc_models::inspect_report(&dir), format)
        }
        ModelCommand::Run { dir, text, format } => {
            print(routerc_models::run_report(&dir, &text), format)
        }
        ModelCommand::Eval(args) => routerc::modelcli::run_eval(args),
    }
}
