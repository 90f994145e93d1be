//! vLLM Semantic Router v0.3 configs, unchanged, lowered to the policy AST.
//!
//! - `providers.models` become backends (first `backend_refs` entry; its URL, model id,
//!   reasoning family, API key variable and extra headers) and `providers.defaults` the
//!   default route.
//! - Every entry of every family under `routing.signals` becomes a typed signal. Families
//!   routerc computes map to its extractors (keywords, embeddings, domains, context, language,
//!   jailbreak, pii, role bindings, regex structure rules); the others are declared with the
//!   `external` extractor and a `W0401` naming the family: declared, never dropped.
//! - Each decision becomes a route whose condition is its rule tree, and whose place in the
//!   evaluation order reproduces vLLM's selection: tier first (ascending, untiered first), a
//!   catch-all (no rules) after the real matches of its tier, then priority (descending),
//!   then name. Recipes selected by `entrypoints` add a `requested_model` test.
//! - `modelRefs[0]` is the backend; `use_reasoning` / `reasoning_effort` and the
//!   `system_prompt`, `request_params`, `fast_response` and `header_mutation` plugins become
//!   action fields or a rejection. Everything else is reported (`W0402`, `W0403`).
//!
//! Unknown keys are errors (`E0405`) in every part that affects routing. Sections that only
//! configure vLLM's own runtime (`global`, `listeners`, `modelCards`, algorithm and plugin
//! settings that are reported as not applied) are carried without key checks.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::node::{Node, Value as Y};
use super::routerc::is_name;
use super::{list, Reader};
use crate::diagnostic::{codes, Diagnostic};
use crate::syntax::ast::*;
use crate::syntax::Span;

const TOP: &[&str] = &[
    "version",
    "listeners",
    "global",
    "providers",
    "routing",
    "entrypoints",
    "recipes",
];
const PROVIDERS: &[&str] = &["defaults", "models"];
const DEFAULTS: &[&str] = &[
    "default_model",
    "default_reasoning_effort",
    "reasoning_families",
];
const FAMILY: &[&str] = &["type", "parameter"];
const MODEL: &[&str] = &[
    "name",
    "provider_model_id",
    "api_format",
    "reasoning_family",
    "pricing",
    "external_model_ids",
    "backend_refs",
    "reliability",
];
const BACKEND_REF: &[&str] = &[
    "name",
    "endpoint",
    "base_url",
    "protocol",
    "type",
    "weight",
    "provider",
    "auth_header",
    "auth_prefix",
    "api_key_env",
    "api_key",
    "extra_headers",
    "api_version",
    "chat_path",
];
const ROUTING: &[&str] = &[
    "strategy",
    "modelCards",
    "signals",
    "projections",
    "decisions",
];
const RECIPE: &[&str] = &["name", "description", "routing"];
const ENTRYPOINT: &[&str] = &["model_names", "recipe"];
const DECISION: &[&str] = &[
    "name",
    "description",
    "priority",
    "tier",
    "rules",
    "modelRefs",
    "algorithm",
    "plugins",
    "annotations",
    "adaptations",
    "candidateIterations",
    "emits",
    "output_contract",
    "output_contract_spec",
];
const MODEL_REF: &[&str] = &[
    "model",
    "use_reasoning",
    "reasoning_effort",
    "reasoning_description",
    "weight",
    "lora_name",
];
const RULE: &[&str] = &["operator", "conditions", "type", "name"];
const CLASSIFIER_LEAF: &[&str] = &["type", "name", "label", "predicate", "on_error"];
const PLUGIN: &[&str] = &["type", "configuration"];
const PROJECTIONS: &[&str] = &["partitions", "scores", "mappings"];
const PROJECTION_MAPPING: &[&str] = &["name", "source", "method", "calibration", "outputs"];

/// Every signal family: its key under `routing.signals`, the `type` rule leaves use for it,
/// and the keys its entries may have.
pub const FAMILIES: &[(&str, &str, &[&str])] = &[
    (
        "keywords",
        "keyword",
        &[
            "name",
            "operator",
            "method",
            "keywords",
            "case_sensitive",
            "bm25_threshold",
            "ngram_threshold",
            "ngram_arity",
            "fuzzy_match",
            "fuzzy_threshold",
        ],
    ),
    (
        "embeddings",
        "embedding",
        &[
            "name",
            "threshold",
            "aggregation_method",
            "candidates",
            "query_modality",
            "model",
        ],
    ),
    (
        "domains",
        "domain",
        &["name", "description", "mmlu_categories", "model_scores"],
    ),
    ("fact_check", "fact_check", &["name", "description"]),
    ("user_feedbacks", "user_feedback", &["name", "description"]),
    (
        "reasks",
        "reask",
        &["name", "description", "threshold", "lookback_turns"],
    ),
    (
        "preferences",
        "preference",
        &["name", "description", "examples", "threshold"],
    ),
    (
        "language",
        "language",
        &["name", "description", "threshold"],
    ),
    (
        "context",
        "context",
        &["name", "description", "min_tokens", "max_tokens"],
    ),
    (
        "structure",
        "structure",
        &["name", "description", "feature", "predicate"],
    ),
    (
        "complexity",
        "complexity",
        &[
            "name",
            "description",
            "threshold",
            "hard",
            "easy",
            "composer",
        ],
    ),
    ("modality", "modality", &["name", "description"]),
    (
        "role_bindings",
        "authz",
        &["name", "description", "role", "subjects"],
    ),
    (
        "jailbreak",
        "jailbreak",
        &[
            "name",
            "description",
            "method",
            "threshold",
            "include_history",
            "jailbreak_patterns",
            "benign_patterns",
        ],
    ),
    (
        "pii",
        "pii",
        &[
            "name",
            "description",
            "threshold",
            "include_history",
            "pii_types_allowed",
        ],
    ),
    ("kb", "kb", &["name", "kb", "target", "match"]),
    (
        "conversation",
        "conversation",
        &["name", "description", "feature", "predicate"],
    ),
    (
        "events",
        "event",
        &[
            "name",
            "description",
            "event_types",
            "severities",
            "action_codes",
            "temporal",
        ],
    ),
    (
        "metadata",
        "metadata",
        &["name", "description", "key", "predicate"],
    ),
    (
        "classifiers",
        "classifier",
        &[
            "name",
            "description",
            "type",
            "model",
            "model_path",
            "labels",
            "use_cpu",
            "instructions",
        ],
    ),
];

/// The entity types of the PII token classifier, as vLLM names them.
const PII_TYPES: &[&str] = &[
    "AGE",
    "CREDIT_CARD",
    "DATE_TIME",
    "DOMAIN_NAME",
    "EMAIL_ADDRESS",
    "GPE",
    "IBAN_CODE",
    "IP_ADDRESS",
    "NRP",
    "ORGANIZATION",
    "PERSON",
    "PHONE_NUMBER",
    "STREET_ADDRESS",
    "TITLE",
    "US_DRIVER_LICENSE",
    "US_SSN",
    "ZIP_CODE",
];

/// What a rule leaf `(type, name)` means once lowered.
#[derive(Clone)]
enum Atom {
    /// A bool signal is true.
    Bool(String),
    /// `signal >= threshold`
    AtLeast(String, f64),
    /// `lo <= signal <= hi` (either bound optional).
    Between(String, Option<i64>, Option<i64>),
    /// `signal == "value"` (a string signal, or a category with one label).
    Is(String, String),
    /// `signal in [labels]` (a category).
    OneOf(String, Vec<String>),
    /// Some label of a set signal that is not allowed is present.
    AnyOf(String, Vec<String>),
    /// Every one of these bool signals (keywords with `operator: AND`).
    All(Vec<String>),
    /// None of these bool signals (`operator: NOR`).
    NotAny(String),
}

/// Unique `.route` names for the vLLM names, per namespace.
#[derive(Default)]
struct Names {
    taken: HashSet<String>,
}

impl Names {
    /// `wanted` made a valid name, then with `prefix`, then with a number, until it is free.
    fn allocate(&mut self, wanted: &str, prefix: &str) -> String {
        let base = sanitize(wanted);
        let mut candidates = vec![base.clone()];
        if !prefix.is_empty() {
            candidates.push(sanitize(&format!("{prefix}_{wanted}")));
        }
        for c in candidates {
            if self.taken.insert(c.clone()) {
                return c;
            }
        }
        let mut i = 2;
        loop {
            let c = format!("{base}_{i}");
            if self.taken.insert(c.clone()) {
                return c;
            }
            i += 1;
        }
    }
}

/// A vLLM name as a `.route` identifier: other characters become `_`.
pub fn sanitize(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    if !is_name(&s) {
        s.push('_');
    }
    s
}

/// A warning reported once for every place it applies: the first place, and how many.
struct Grouped {
    code: &'static crate::diagnostic::Code,
    span: Span,
    message: String,
    help: String,
    names: Vec<String>,
}

struct Lowering<'r, 't> {
    r: &'r mut Reader<'t>,
    items: Vec<Item>,
    signal_names: Names,
    backend_names: Names,
    route_names: Names,
    /// vLLM model name → backend name, reasoning family kind, and span of the declaration.
    models: BTreeMap<String, (String, bool)>,
    /// Shared signals, declared once when first needed.
    shared: HashMap<&'static str, String>,
    /// Every domain label any routing mentions, for the shared `domain` category.
    domain_labels: Vec<String>,
    domain_signal: Option<usize>,
    grouped: Vec<Grouped>,
    default_effort: Option<String>,
    /// (item index, note) for `convert --to route`.
    notes: Vec<(usize, String)>,
    external_families: BTreeMap<&'static str, (Span, Vec<String>)>,
    /// The current routing's signals had errors (see [`Lowering::routing`]).
    signals_incomplete: bool,
    /// Some routing ranks its decisions by confidence: the policy is `select by confidence`.
    by_confidence: bool,
    /// The current routing does (see [`Lowering::order`]).
    ranked: bool,
}

pub fn lower(r: &mut Reader<'_>, root: &Node) -> Vec<Item> {
    let Some(top) = r.map(root, "a vLLM Semantic Router config", TOP) else {
        return Vec::new();
    };
    let mut l = Lowering {
        r,
        items: Vec::new(),
        signal_names: Names::default(),
        backend_names: Names::default(),
        route_names: Names::default(),
        models: BTreeMap::new(),
        shared: HashMap::new(),
        domain_labels: Vec::new(),
        domain_signal: None,
        grouped: Vec::new(),
        default_effort: None,
        notes: Vec::new(),
        external_families: BTreeMap::new(),
        signals_incomplete: false,
        by_confidence: false,
        ranked: false,
    };
    if let Some(v) = root.get("version") {
        if let Some(text) = l.r.text_of(v, "`version`") {
            if text != "v0.3" {
                l.r.push(
                    Diagnostic::new(
                        &codes::E0406,
                        v.span,
                        format!("unsupported config version `{text}`"),
                    )
                    .with_label("routerc reads vLLM Semantic Router `v0.3` configs"),
                );
            }
        }
    }
    for e in top {
        if matches!(e.key.as_str(), "global" | "listeners") {
            l.group(
                &codes::W0402,
                e.key_span,
                format!("`{}` is not applied", e.key),
                "`routerc serve` has its own listener and runtime settings (see docs/yaml.md)",
                &e.key,
            );
        }
    }
    let default = l.providers(root);
    // Routings: the top-level one, then each recipe, each with the entrypoint models that
    // select it.
    let mut routings: Vec<(Option<String>, &Node, Vec<String>)> = Vec::new();
    let entrypoints = l.entrypoints(root);
    let recipes = match root.get("recipes") {
        Some(n) => l.r.seq(n, "`recipes`").unwrap_or(&[]),
        None => &[],
    };
    let mut recipe_models: Vec<String> = Vec::new();
    let mut recipe_names = HashSet::new();
    for rc in recipes {
        if l.r.map(rc, "a recipe", RECIPE).is_none() {
            continue;
        }
        let Some(name_node) = l.r.required(rc, "name", "a recipe") else {
            continue;
        };
        let Some(name) = l.r.text_of(name_node, "a recipe's `name`") else {
            continue;
        };
        recipe_names.insert(name.clone());
        let models: Vec<String> = entrypoints
            .iter()
            .filter(|(_, r, _)| *r == name)
            .flat_map(|(m, _, _)| m.clone())
            .collect();
        if models.is_empty() {
            l.r.push(
                Diagnostic::new(
                    &codes::W0402,
                    name_node.span,
                    format!("recipe `{name}` has no entrypoint"),
                )
                .with_label("no `entrypoints` entry selects this recipe")
                .with_help("its decisions can never be chosen; add an entrypoint or remove it"),
            );
            continue;
        }
        recipe_models.extend(models.iter().cloned());
        if let Some(routing) = l.r.required(rc, "routing", "a recipe") {
            routings.push((Some(name), routing, models));
        }
    }
    for (_, recipe, span) in &entrypoints {
        if recipe != "default" && !recipe_names.contains(recipe) {
            let candidates: Vec<&str> = recipe_names.iter().map(String::as_str).collect();
            l.r.push(
                Diagnostic::new(&codes::E0409, *span, format!("unknown recipe `{recipe}`"))
                    .with_label("no recipe of this name")
                    .with_suggestion(recipe, *span, candidates),
            );
        }
    }
    if let Some(routing) = root.get("routing") {
        routings.insert(0, (None, routing, Vec::new()));
    }
    // One policy holds every routing; when one ranks by confidence, the policy selects by
    // confidence and the others get a priority per decision, so that none of their routes
    // share a tier.
    l.by_confidence = routings
        .iter()
        .any(|(_, routing, _)| ranks_by_confidence(routing));
    if l.by_confidence {
        let span = root.span;
        let word = |name: &str| Ident {
            name: name.into(),
            span,
        };
        l.items.push(Item::Select(SelectDecl {
            by: word("by"),
            mode: word("confidence"),
            span,
        }));
    }
    // The top-level routing serves every model the recipes do not.
    let recipe_models_for_top = recipe_models;
    for (recipe, routing, models) in routings {
        let gate = match &recipe {
            Some(_) => Gate::Models(models),
            None if recipe_models_for_top.is_empty() => Gate::None,
            None => Gate::NotModels(recipe_models_for_top.clone()),
        };
        l.routing(recipe.as_deref(), routing, gate);
    }
    l.finish_domain();
    if let Some(d) = default {
        l.items.push(Item::Default(d));
    }
    l.report();
    l.r.notes.extend(l.notes);
    l.items
}

/// `strategy: confidence` with decisions to rank (with fewer than two there is nothing to).
fn ranks_by_confidence(routing: &Node) -> bool {
    routing.get("strategy").and_then(Node::as_str) == Some("confidence")
        && routing
            .get("decisions")
            .and_then(Node::as_seq)
            .is_some_and(|d| d.len() >= 2)
}

/// Which requested models a routing's decisions apply to.
enum Gate {
    None,
    Models(Vec<String>),
    NotModels(Vec<String>),
}

impl Lowering<'_, '_> {
    fn errors(&self) -> usize {
        self.r
            .diagnostics
            .iter()
            .filter(|d| d.severity() == crate::diagnostic::Severity::Error)
            .count()
    }

    fn group(
        &mut self,
        code: &'static crate::diagnostic::Code,
        span: Span,
        message: String,
        help: &str,
        name: &str,
    ) {
        if let Some(g) = self
            .grouped
            .iter_mut()
            .find(|g| g.code == code && g.message == message)
        {
            g.names.push(name.to_string());
            return;
        }
        self.grouped.push(Grouped {
            code,
            span,
            message,
            help: help.to_string(),
            names: vec![name.to_string()],
        });
    }

    fn report(&mut self) {
        let families = std::mem::take(&mut self.external_families);
        for (family, (span, names)) in families {
            self.r.push(
                Diagnostic::new(
                    &codes::W0401,
                    span,
                    format!("routerc has no extractor for the `{family}` signal family"),
                )
                .with_label(format!(
                    "declared as external: {}",
                    shorten(&names)
                ))
                .with_help("conditions on these signals are false until routerc computes the family; routes that need them do not fire"),
            );
        }
        for g in std::mem::take(&mut self.grouped) {
            self.r.push(
                Diagnostic::new(g.code, g.span, g.message)
                    .with_label(match g.names.len() {
                        1 => format!("in `{}`", g.names[0]),
                        _ => format!("in {} places: {}", g.names.len(), shorten(&g.names)),
                    })
                    .with_help(g.help),
            );
        }
    }

    fn push_signal(
        &mut self,
        name: &str,
        span: Span,
        ty: TypeExpr,
        path: &[&str],
        args: Option<Vec<Arg>>,
    ) {
        let ident = Ident {
            name: crate::syntax::ast::Name::from(name),
            span,
        };
        self.items.push(Item::Signal(Box::new(SignalDecl {
            name: ident,
            ty,
            extractor: Extractor {
                path: path
                    .iter()
                    .map(|p| Ident {
                        name: crate::syntax::ast::Name::from(*p),
                        span,
                    })
                    .collect(),
                args,
                span,
            },
            span,
        })));
    }

    /// One of the signals several rules share (`language`, `prompt_tokens`, `role`,
    /// `requested_model`), declared the first time it is needed.
    fn shared(&mut self, key: &'static str, span: Span) -> String {
        if let Some(name) = self.shared.get(key) {
            return name.clone();
        }
        let name = self.signal_names.allocate(key, "request");
        let (ty, path): (&str, &[&str]) = match key {
            "language" => ("string", &["language"]),
            "prompt_tokens" => ("int", &["length", "tokens"]),
            "role" => ("string", &["identity", "role"]),
            _ => ("string", &["request", "model"]),
        };
        self.push_signal(&name, span, simple_type(ty, span), path, None);
        self.shared.insert(key, name.clone());
        name
    }

    fn finish_domain(&mut self) {
        if let Some(i) = self.domain_signal {
            if let Some(Item::Signal(s)) = self.items.get_mut(i) {
                let span = s.span;
                s.ty.labels = Some(
                    self.domain_labels
                        .iter()
                        .map(|l| Label {
                            quoted: !is_name(l),
                            name: l.as_str().into(),
                            span,
                        })
                        .collect(),
                );
            }
        }
    }

    fn entrypoints(&mut self, root: &Node) -> Vec<(Vec<String>, String, Span)> {
        let mut out = Vec::new();
        let Some(n) = root.get("entrypoints") else {
            return out;
        };
        let Some(items) = self.r.seq(n, "`entrypoints`") else {
            return out;
        };
        for e in items {
            if self.r.map(e, "an entrypoint", ENTRYPOINT).is_none() {
                continue;
            }
            let names = match self.r.required(e, "model_names", "an entrypoint") {
                Some(m) => self
                    .r
                    .seq(m, "`model_names`")
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(|x| self.r.text_of(x, "a model name"))
                    .collect(),
                None => continue,
            };
            let Some(recipe) = self.r.required(e, "recipe", "an entrypoint") else {
                continue;
            };
            if let Some(text) = self.r.text_of(recipe, "`recipe`") {
                out.push((names, text, recipe.span));
            }
        }
        out
    }

    /// Backends from `providers.models`; the default route from `providers.defaults`.
    fn providers(&mut self, root: &Node) -> Option<DefaultDecl> {
        let providers = self
            .r
            .required(root, "providers", "a vLLM Semantic Router config")?;
        self.r.map(providers, "`providers`", PROVIDERS)?;
        let mut families: HashMap<String, (String, String, Span)> = HashMap::new();
        let defaults = providers.get("defaults");
        if let Some(d) = defaults {
            self.r.map(d, "`providers.defaults`", DEFAULTS);
            if let Some(f) = d.get("reasoning_families") {
                if f.as_map().is_none() && f.value != Y::Null {
                    self.r.wrong(f, "`reasoning_families`", "a mapping");
                }
                for e in f.as_map().unwrap_or(&[]) {
                    if self.r.map(&e.value, "a reasoning family", FAMILY).is_none() {
                        continue;
                    }
                    let ty = e.value.get("type").and_then(Node::as_str).unwrap_or("");
                    let param = e
                        .value
                        .get("parameter")
                        .and_then(Node::as_str)
                        .unwrap_or("");
                    families.insert(
                        e.key.clone(),
                        (ty.to_string(), param.to_string(), e.key_span),
                    );
                }
            }
            if let Some(effort) = d.get("default_reasoning_effort") {
                self.default_effort = self.r.text_of(effort, "`default_reasoning_effort`");
            }
        }
        let models = match providers.get("models") {
            Some(m) => self.r.seq(m, "`providers.models`").unwrap_or(&[]),
            None => &[],
        };
        for m in models {
            self.model(m, &families);
        }
        let d = defaults?;
        let dm = self
            .r
            .required(d, "default_model", "`providers.defaults`")?;
        let name = self.r.text_of(dm, "`default_model`")?;
        let backend = self.backend_ref(&name, dm.span)?;
        Some(DefaultDecl {
            action: Action::Backend {
                backend,
                fields: Vec::new(),
                span: dm.span,
            },
            span: dm.span,
            keyword: dm.span,
        })
    }

    fn model(&mut self, m: &Node, families: &HashMap<String, (String, String, Span)>) {
        if self.r.map(m, "a model", MODEL).is_none() {
            return;
        }
        let Some(name_node) = self.r.required(m, "name", "a model") else {
            return;
        };
        let Some(name) = self.r.text_of(name_node, "a model's `name`") else {
            return;
        };
        if self.models.contains_key(&name) {
            self.r.push(
                Diagnostic::new(
                    &codes::E0205,
                    name_node.span,
                    format!("duplicate model `{name}`"),
                )
                .with_label("a second model of this name")
                .with_help("model names are unique in `providers.models`"),
            );
            return;
        }
        let backend = self.backend_names.allocate(&name, "model");
        let mut fields = Vec::new();
        let span = name_node.span;
        let field = |key: &str, value: Value, span: Span| Field {
            key: Ident {
                name: crate::syntax::ast::Name::from(key),
                span,
            },
            value,
            span,
        };
        let refs = match self
            .r
            .required(m, "backend_refs", &format!("model `{name}`"))
        {
            Some(r) => self.r.seq(r, "`backend_refs`").unwrap_or(&[]),
            None => &[],
        };
        if refs.len() > 1 {
            self.group(
                &codes::W0403,
                refs[1].span,
                "weighted `backend_refs` are not balanced".to_string(),
                "routerc sends every request for a model to its first backend reference",
                &name,
            );
        }
        if let Some(first) = refs.first() {
            if self
                .r
                .map(first, "a backend reference", BACKEND_REF)
                .is_some()
            {
                let url = match (first.get("base_url"), first.get("endpoint")) {
                    (Some(b), _) => self.r.text_of(b, "`base_url`"),
                    (None, Some(e)) => self.r.text_of(e, "`endpoint`").map(|e| {
                        let scheme = first
                            .get("protocol")
                            .and_then(Node::as_str)
                            .filter(|p| *p == "https")
                            .unwrap_or("http");
                        if e.contains("://") {
                            e
                        } else {
                            format!("{scheme}://{e}/v1")
                        }
                    }),
                    (None, None) => {
                        self.r.push(
                            Diagnostic::new(
                                &codes::E0407,
                                first.span,
                                "a backend reference has no `endpoint` or `base_url`",
                            )
                            .with_label("where requests go is missing"),
                        );
                        None
                    }
                };
                let url_span = first
                    .get("base_url")
                    .or(first.get("endpoint"))
                    .map_or(first.span, |n| n.span);
                if let Some(url) = url {
                    fields.push(field(
                        "url",
                        Value::Str(StrLit {
                            value: url,
                            span: url_span,
                        }),
                        url_span,
                    ));
                }
                if let Some(k) = first.get("api_key_env") {
                    if let Some(v) = self.r.text_of(k, "`api_key_env`") {
                        fields.push(field(
                            "api_key_env",
                            Value::Str(StrLit {
                                value: v,
                                span: k.span,
                            }),
                            k.span,
                        ));
                    }
                }
                if let Some(k) = first.get("api_key") {
                    self.group(
                        &codes::W0402,
                        k.span,
                        "an inline `api_key` is not carried".to_string(),
                        "keys do not belong in policies; set `api_key_env` to the variable that holds it",
                        &name,
                    );
                }
                if let Some(h) = first.get("extra_headers") {
                    let mut headers = Vec::new();
                    for e in h.as_map().unwrap_or(&[]) {
                        if let Some(v) = self.r.text_of(&e.value, "a header value") {
                            headers.push(field(
                                &header_key(&e.key),
                                Value::Str(StrLit {
                                    value: v,
                                    span: e.value.span,
                                }),
                                e.key_span,
                            ));
                        }
                    }
                    fields.push(field("headers", Value::Map(headers, h.span), h.span));
                }
            }
        }
        let id = match m.get("provider_model_id") {
            Some(p) => self
                .r
                .text_of(p, "`provider_model_id`")
                .unwrap_or(name.clone()),
            None => name.clone(),
        };
        let id_span = m.get("provider_model_id").map_or(span, |n| n.span);
        fields.push(field(
            "model",
            Value::Str(StrLit {
                value: id,
                span: id_span,
            }),
            id_span,
        ));
        // Reasoning: the family's kind decides how `reasoning_effort` is sent.
        let mut reasons = false;
        let reasoning = match m.get("reasoning_family") {
            Some(f) => match self.r.text_of(f, "`reasoning_family`") {
                Some(fam) => match families.get(&fam) {
                    Some((ty, param, _)) => {
                        reasons = true;
                        match ty.as_str() {
                            "chat_template_kwargs" => {
                                if param != "enable_thinking" {
                                    self.group(
                                        &codes::W0403,
                                        f.span,
                                        format!("the chat template parameter `{param}` is sent as `enable_thinking`"),
                                        "routerc's template reasoning family sets `chat_template_kwargs.enable_thinking`",
                                        &name,
                                    );
                                }
                                "enable_thinking"
                            }
                            _ => "effort",
                        }
                    }
                    None => {
                        let known: Vec<&str> = families.keys().map(String::as_str).collect();
                        self.r.push(
                            Diagnostic::new(
                                &codes::E0409,
                                f.span,
                                format!("unknown reasoning family `{fam}`"),
                            )
                            .with_label("not in `providers.defaults.reasoning_families`")
                            .with_suggestion(&fam, f.span, known),
                        );
                        "none"
                    }
                },
                None => "none",
            },
            None => "none",
        };
        fields.push(field(
            "reasoning",
            Value::Name(Ident {
                name: crate::syntax::ast::Name::from(reasoning),
                span,
            }),
            span,
        ));
        if let Some(rel) = m.get("reliability") {
            if let Some(n) = rel.get("retry_count") {
                if let Some(v) = self.r.int(n, "`retry_count`") {
                    fields.push(field(
                        "max_retries",
                        Value::Int(IntLit {
                            value: v,
                            span: n.span,
                        }),
                        n.span,
                    ));
                }
            }
        }
        if m.get("api_format")
            .and_then(Node::as_str)
            .is_some_and(|f| f != "openai")
        {
            self.group(
                &codes::W0403,
                m.get("api_format").map_or(span, |n| n.span),
                "only the OpenAI API format is spoken".to_string(),
                "routerc forwards OpenAI chat completions; the backend must accept them",
                &name,
            );
        }
        self.models.insert(name.clone(), (backend.clone(), reasons));
        if !fields.iter().any(|f| f.key.name == "url") {
            // Its missing endpoint is already reported; routes to it are not reported again.
            self.r.declared.push(("backend", backend));
            return;
        }
        self.items.push(Item::Backend(BackendDecl {
            name: Ident {
                name: crate::syntax::ast::Name::from(backend),
                span,
            },
            fields,
            span: m.span,
        }));
    }

    /// The backend for a vLLM model name, or `E0203` with a did-you-mean.
    fn backend_ref(&mut self, model: &str, span: Span) -> Option<Ident> {
        match self.models.get(model) {
            Some((b, _)) => Some(Ident {
                name: b.as_str().into(),
                span,
            }),
            None => {
                let known: Vec<&str> = self.models.keys().map(String::as_str).collect();
                let d = Diagnostic::new(&codes::E0203, span, format!("unknown model `{model}`"))
                    .with_label("not in `providers.models`")
                    .with_suggestion(model, span, known.iter().copied());
                let d = if d.help.is_none() {
                    d.with_help(format!("the models are {}", list(&known)))
                } else {
                    d
                };
                self.r.push(d);
                None
            }
        }
    }

    fn routing(&mut self, recipe: Option<&str>, routing: &Node, gate: Gate) {
        let what = match recipe {
            Some(r) => format!("the routing of recipe `{r}`"),
            None => "`routing`".to_string(),
        };
        if self.r.map(routing, &what, ROUTING).is_none() {
            return;
        }
        let scope = recipe.unwrap_or("");
        self.ranked = ranks_by_confidence(routing);
        if let Some(s) = routing.get("strategy") {
            if let Some(text) = self.r.text_of(s, "`strategy`") {
                match text.as_str() {
                    // Ranked by `select by confidence` (see `order`).
                    "priority" | "confidence" => {}
                    other => self.r.push(
                        Diagnostic::new(
                            &codes::E0406,
                            s.span,
                            format!("unknown strategy `{other}`"),
                        )
                        .with_label("expected `priority` or `confidence`")
                        .with_suggestion(
                            other,
                            s.span,
                            ["priority", "confidence"],
                        ),
                    ),
                }
            }
        }
        let errors_before = self.errors();
        let signals = self.signals(scope, routing.get("signals"));
        let signals = self.projections(scope, routing.get("projections"), signals);
        // A signal declaration with an error may be the one a rule names: then unknown names
        // are not reported again (the declaration's own error says what is wrong).
        self.signals_incomplete = self.errors() > errors_before;
        let Some(decisions) = routing.get("decisions") else {
            return;
        };
        let Some(decisions) = self.r.seq(decisions, "`decisions`") else {
            return;
        };
        let gate_cond = self.gate(&gate, routing.span);
        let mut lowered: Vec<Lowered> = Vec::new();
        let mut seen: HashMap<String, Span> = HashMap::new();
        for d in decisions {
            if let Some(x) = self.decision(d, &signals, scope, &mut seen) {
                lowered.push(x);
            }
        }
        self.order(lowered, gate_cond);
    }

    /// The condition that selects a routing by the requested model.
    fn gate(&mut self, gate: &Gate, span: Span) -> Option<Expr> {
        let (models, negated) = match gate {
            Gate::None => return None,
            Gate::Models(m) => (m, false),
            Gate::NotModels(m) => (m, true),
        };
        let signal = self.shared("requested_model", span);
        if let [one] = models.as_slice() {
            return Some(Expr::Compare {
                lhs: path(&signal, span),
                op: if negated { CmpOp::Ne } else { CmpOp::Eq },
                op_span: span,
                rhs: Operand::Str(StrLit {
                    value: one.clone(),
                    span,
                }),
                span,
            });
        }
        Some(Expr::In {
            lhs: path(&signal, span),
            set: InSet::List(
                models
                    .iter()
                    .map(|m| {
                        Operand::Str(StrLit {
                            value: m.clone(),
                            span,
                        })
                    })
                    .collect(),
                span,
            ),
            negated,
            span,
        })
    }

    /// Declares the signals of one routing; returns what each `(type, name)` means.
    fn signals(&mut self, scope: &str, node: Option<&Node>) -> HashMap<(String, String), Atom> {
        let mut out = HashMap::new();
        let Some(node) = node else { return out };
        let families: Vec<&str> = FAMILIES.iter().map(|f| f.0).collect();
        let Some(entries) = self.r.map(node, "`signals`", &families) else {
            return out;
        };
        for e in entries {
            let Some(&(family, leaf, keys)) = FAMILIES.iter().find(|f| f.0 == e.key) else {
                continue;
            };
            let Some(rules) = self.r.seq(&e.value, &format!("`{family}`")) else {
                continue;
            };
            for rule in rules {
                if self
                    .r
                    .map(rule, &format!("a `{family}` signal"), keys)
                    .is_none()
                {
                    continue;
                }
                let Some(name_node) =
                    self.r
                        .required(rule, "name", &format!("a `{family}` signal"))
                else {
                    continue;
                };
                let Some(name) = self.r.text_of(name_node, "a signal's `name`") else {
                    continue;
                };
                let key = (leaf.to_string(), name.clone());
                if out.contains_key(&key) {
                    self.r.push(
                        Diagnostic::new(
                            &codes::E0205,
                            name_node.span,
                            format!("duplicate `{family}` signal `{name}`"),
                        )
                        .with_label("a second signal of this name in this family"),
                    );
                    continue;
                }
                if let Some(atom) = self.signal(family, scope, &name, name_node.span, rule) {
                    out.insert(key, atom);
                }
            }
        }
        out
    }

    fn external(
        &mut self,
        family: &'static str,
        scope: &str,
        name: &str,
        span: Span,
        ty: &str,
        report_family: bool,
    ) -> String {
        let signal = self.signal_names.allocate(name, &join(scope, family));
        let args = vec![
            arg(
                None,
                Value::Str(StrLit {
                    value: family.to_string(),
                    span,
                }),
            ),
            arg(
                Some("rule"),
                Value::Str(StrLit {
                    value: name.to_string(),
                    span,
                }),
            ),
        ];
        self.push_signal(
            &signal,
            span,
            simple_type(ty, span),
            &["external"],
            Some(args),
        );
        if report_family {
            let entry = self
                .external_families
                .entry(family)
                .or_insert_with(|| (span, Vec::new()));
            entry.1.push(name.to_string());
        }
        signal
    }

    fn signal(
        &mut self,
        family: &'static str,
        scope: &str,
        name: &str,
        span: Span,
        rule: &Node,
    ) -> Option<Atom> {
        let prefix = join(scope, family);
        let strings = |r: &mut Reader<'_>, key: &str| -> Vec<String> {
            match rule.get(key) {
                Some(n) => r
                    .seq(n, &format!("`{key}`"))
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(|x| r.text_of(x, "an entry"))
                    .collect(),
                None => Vec::new(),
            }
        };
        match family {
            "keywords" => {
                let keywords = strings(self.r, "keywords");
                if keywords.is_empty() {
                    self.r.push(
                        Diagnostic::new(
                            &codes::E0407,
                            span,
                            format!("keyword signal `{name}` has no keywords"),
                        )
                        .with_label("nothing to match"),
                    );
                    return None;
                }
                let case_sensitive = match rule.get("case_sensitive") {
                    Some(n) => self.r.bool(n, "`case_sensitive`")?,
                    None => false,
                };
                let method = rule.get("method").and_then(Node::as_str).unwrap_or("");
                let operator = rule
                    .get("operator")
                    .and_then(Node::as_str)
                    .unwrap_or("OR")
                    .to_ascii_uppercase();
                if !matches!(operator.as_str(), "OR" | "AND" | "NOR") {
                    self.r.push(
                        Diagnostic::new(
                            &codes::E0406,
                            rule.get("operator").map_or(span, |n| n.span),
                            format!("unknown keyword operator `{operator}`"),
                        )
                        .with_label("expected `OR`, `AND` or `NOR`"),
                    );
                    return None;
                }
                if !matches!(method, "" | "exact" | "regex") {
                    self.group(
                        &codes::W0403,
                        rule.get("method").map_or(span, |n| n.span),
                        format!("keyword method `{method}` is matched exactly"),
                        "routerc matches the keywords as whole words, case-insensitively; fuzzy scores (bm25, ngram, fuzzy) are not computed",
                        name,
                    );
                }
                let regex = method == "regex";
                let make = |l: &mut Self, signal_name: &str, words: &[String]| {
                    let mut args: Vec<Arg> = Vec::new();
                    for w in words {
                        let pattern = if regex && !case_sensitive {
                            format!("(?i){w}")
                        } else {
                            w.clone()
                        };
                        args.push(arg(
                            None,
                            Value::Str(StrLit {
                                value: pattern,
                                span,
                            }),
                        ));
                    }
                    if !regex && case_sensitive {
                        args.push(arg(
                            Some("mode"),
                            Value::Name(Ident {
                                name: "exact".into(),
                                span,
                            }),
                        ));
                    }
                    let path: &[&str] = if regex { &["regex"] } else { &["keyword"] };
                    l.push_signal(
                        signal_name,
                        span,
                        simple_type("bool", span),
                        path,
                        Some(args),
                    );
                };
                let pattern_of = |w: &String| {
                    if case_sensitive {
                        w.clone()
                    } else {
                        format!("(?i){w}")
                    }
                };
                if regex
                    && keywords
                        .iter()
                        .any(|w| regex::Regex::new(&pattern_of(w)).is_err())
                {
                    self.group(
                        &codes::W0403,
                        span,
                        "keyword patterns use regular expression features routerc lacks".to_string(),
                        "look-around and back-references are not supported; the signal is declared as external and never matches",
                        name,
                    );
                    return Some(Atom::Bool(
                        self.external("keywords", scope, name, span, "bool", false),
                    ));
                }
                if operator == "AND" {
                    let mut parts = Vec::new();
                    for (i, w) in keywords.iter().enumerate() {
                        let n = self
                            .signal_names
                            .allocate(&format!("{name}_{}", i + 1), &prefix);
                        make(self, &n, std::slice::from_ref(w));
                        parts.push(n);
                    }
                    return Some(Atom::All(parts));
                }
                let n = self.signal_names.allocate(name, &prefix);
                make(self, &n, &keywords);
                Some(if operator == "NOR" {
                    Atom::NotAny(n)
                } else {
                    Atom::Bool(n)
                })
            }
            "embeddings" => {
                let candidates = strings(self.r, "candidates");
                let threshold = match rule.get("threshold") {
                    Some(t) => self.r.number(t, "`threshold`")?,
                    None => 0.0,
                };
                if candidates.is_empty() {
                    return Some(Atom::Bool(self.external(
                        "embeddings",
                        scope,
                        name,
                        span,
                        "bool",
                        true,
                    )));
                }
                if let Some(m) = rule.get("model") {
                    let model = self.r.text_of(m, "`model`")?;
                    if model != "auto" {
                        self.group(
                            &codes::W0403,
                            m.span,
                            format!("embedding model `{model}` is not used"),
                            "routerc computes similarities with its own sentence embedder (see docs/models.md)",
                            name,
                        );
                    }
                }
                let aggregate = match rule.get("aggregation_method").and_then(Node::as_str) {
                    Some("mean" | "avg" | "average") => "mean",
                    _ => "max",
                };
                let n = self.signal_names.allocate(name, &prefix);
                let list = Value::List(
                    candidates
                        .into_iter()
                        .map(|c| Value::Str(StrLit { value: c, span }))
                        .collect(),
                    span,
                );
                let mut args = vec![arg(None, list)];
                if aggregate == "mean" {
                    args.push(arg(
                        Some("aggregate"),
                        Value::Name(Ident {
                            name: "mean".into(),
                            span,
                        }),
                    ));
                }
                self.push_signal(
                    &n,
                    span,
                    simple_type("similarity", span),
                    &["examples"],
                    Some(args),
                );
                Some(Atom::AtLeast(n, threshold))
            }
            "domains" => {
                let mut labels = vec![name.to_string()];
                labels.extend(strings(self.r, "mmlu_categories"));
                labels.dedup();
                if self.domain_signal.is_none() {
                    let n = self.signal_names.allocate("domain", "signal");
                    self.domain_signal = Some(self.items.len());
                    let ty = TypeExpr {
                        name: Ident {
                            name: "category".into(),
                            span,
                        },
                        labels: Some(Vec::new()),
                        span,
                    };
                    let args = vec![arg(
                        None,
                        Value::Str(StrLit {
                            value: "domain".into(),
                            span,
                        }),
                    )];
                    self.push_signal(&n, span, ty, &["classifier"], Some(args));
                    self.shared.insert("domain", n);
                }
                for l in &labels {
                    if !self.domain_labels.contains(l) {
                        self.domain_labels.push(l.clone());
                    }
                }
                let signal = self.shared["domain"].clone();
                Some(if labels.len() == 1 {
                    Atom::Is(signal, name.to_string())
                } else {
                    Atom::OneOf(signal, labels)
                })
            }
            "language" => {
                let signal = self.shared("language", span);
                Some(Atom::Is(signal, name.to_string()))
            }
            "context" => {
                let bound = |l: &mut Self, key: &str| -> Option<Option<i64>> {
                    match rule.get(key) {
                        Some(n) => match tokens(n) {
                            Some(v) => Some(Some(v)),
                            None => {
                                l.r.wrong(
                                    n,
                                    &format!("`{key}`"),
                                    "a token count such as `8000`, `16K` or `1M`",
                                );
                                None
                            }
                        },
                        None => Some(None),
                    }
                };
                let lo = bound(self, "min_tokens")?;
                let hi = bound(self, "max_tokens")?;
                let signal = self.shared("prompt_tokens", span);
                Some(Atom::Between(signal, lo, hi))
            }
            "jailbreak" => {
                let threshold = match rule.get("threshold") {
                    Some(t) => self.r.number(t, "`threshold`")?,
                    None => 0.5,
                };
                if rule.get("jailbreak_patterns").is_some() || rule.get("benign_patterns").is_some()
                {
                    self.group(
                        &codes::W0403,
                        span,
                        "jailbreak patterns are not applied".to_string(),
                        "routerc decides from the jailbreak classifier's score alone",
                        name,
                    );
                }
                let n = self.signal_names.allocate(name, &prefix);
                let args = vec![
                    arg(
                        None,
                        Value::Str(StrLit {
                            value: "jailbreak".into(),
                            span,
                        }),
                    ),
                    arg(
                        Some("label"),
                        Value::Str(StrLit {
                            value: "jailbreak".into(),
                            span,
                        }),
                    ),
                ];
                self.push_signal(
                    &n,
                    span,
                    simple_type("score", span),
                    &["classifier"],
                    Some(args),
                );
                Some(Atom::AtLeast(n, threshold))
            }
            "pii" => {
                let allowed = strings(self.r, "pii_types_allowed");
                let mut labels: Vec<String> = PII_TYPES.iter().map(|s| s.to_string()).collect();
                for a in &allowed {
                    if !labels.contains(a) {
                        labels.push(a.clone());
                    }
                }
                let n = self.signal_names.allocate(name, &prefix);
                let ty = TypeExpr {
                    name: Ident {
                        name: "set".into(),
                        span,
                    },
                    labels: Some(
                        labels
                            .iter()
                            .map(|l| Label {
                                quoted: !is_name(l),
                                name: l.as_str().into(),
                                span,
                            })
                            .collect(),
                    ),
                    span,
                };
                let args = vec![arg(
                    None,
                    Value::Str(StrLit {
                        value: "pii".into(),
                        span,
                    }),
                )];
                self.push_signal(&n, span, ty, &["token_classifier"], Some(args));
                let flagged = labels
                    .into_iter()
                    .filter(|l| !allowed.contains(l))
                    .collect();
                Some(Atom::AnyOf(n, flagged))
            }
            "role_bindings" => {
                let role = match rule.get("role") {
                    Some(r) => self.r.text_of(r, "`role`")?,
                    None => name.to_string(),
                };
                if rule.get("subjects").is_some() {
                    self.group(
                        &codes::W0403,
                        span,
                        "role binding subjects are not checked".to_string(),
                        "routerc compares the authenticated identity's role; group subjects are not resolved",
                        name,
                    );
                }
                let signal = self.shared("role", span);
                Some(Atom::Is(signal, role))
            }
            "structure" | "conversation" => {
                if let Some(atom) = self.counted(family, rule, name, &prefix, span) {
                    return Some(atom);
                }
                if family == "conversation" {
                    return Some(Atom::Bool(self.external(
                        "conversation",
                        scope,
                        name,
                        span,
                        "bool",
                        true,
                    )));
                }
                let feature = rule.get("feature");
                let exists =
                    feature.and_then(|f| f.get("type")).and_then(Node::as_str) == Some("exists");
                let source = feature.and_then(|f| f.get("source"));
                let pattern = source
                    .filter(|s| s.get("type").and_then(Node::as_str) == Some("regex"))
                    .and_then(|s| s.get("pattern"))
                    .and_then(Node::as_str);
                match pattern {
                    Some(p) if exists && regex::Regex::new(p).is_ok() => {
                        let n = self.signal_names.allocate(name, &prefix);
                        let args = vec![arg(
                            None,
                            Value::Str(StrLit {
                                value: p.to_string(),
                                span,
                            }),
                        )];
                        self.push_signal(
                            &n,
                            span,
                            simple_type("bool", span),
                            &["regex"],
                            Some(args),
                        );
                        Some(Atom::Bool(n))
                    }
                    _ => Some(Atom::Bool(self.external(
                        "structure",
                        scope,
                        name,
                        span,
                        "bool",
                        true,
                    ))),
                }
            }
            "metadata" => {
                // `key` compared with `predicate: {equals: …}`: a string signal per key.
                let key = rule.get("key").and_then(Node::as_str);
                let equals = rule
                    .get("predicate")
                    .and_then(|p| p.get("equals"))
                    .and_then(Node::as_str);
                match (key, equals) {
                    (Some(key), Some(value)) if !key.is_empty() => {
                        let n = self.signal_names.allocate(name, &prefix);
                        let args = vec![arg(
                            None,
                            Value::Str(StrLit {
                                value: key.to_string(),
                                span,
                            }),
                        )];
                        self.push_signal(
                            &n,
                            span,
                            simple_type("string", span),
                            &["request", "metadata"],
                            Some(args),
                        );
                        Some(Atom::Is(n, value.to_string()))
                    }
                    _ => Some(Atom::Bool(
                        self.external("metadata", scope, name, span, "bool", true),
                    )),
                }
            }
            "complexity" => {
                // Referred to as `name:hard`, `name:medium` or `name:easy`: one string signal.
                let n = self.external("complexity", scope, name, span, "string", true);
                Some(Atom::Is(n, String::new()))
            }
            other => {
                let family = FAMILIES
                    .iter()
                    .find(|f| f.0 == other)
                    .map_or("unknown", |f| f.0);
                Some(Atom::Bool(
                    self.external(family, scope, name, span, "bool", true),
                ))
            }
        }
    }

    /// The `structure` and `conversation` features routerc computes exactly: counts of regex
    /// matches, of messages of a role and of tool definitions, compared by the rule's
    /// `predicate` (`gt`, `gte`, `lt`, `lte`, `eq`); `exists` as a count of at least one; and
    /// `sequence` (phrases in order) as one regex per sequence. `None` for any other feature,
    /// which stays external.
    fn counted(
        &mut self,
        family: &str,
        rule: &Node,
        name: &str,
        prefix: &str,
        span: Span,
    ) -> Option<Atom> {
        let feature = rule.get("feature")?;
        let kind = feature.get("type").and_then(Node::as_str)?;
        let source = feature.get("source")?;
        let source_type = source.get("type").and_then(Node::as_str)?;
        let case_sensitive = source
            .get("case_sensitive")
            .and_then(|n| match n.value {
                super::node::Value::Bool(b) => Some(b),
                _ => None,
            })
            .unwrap_or(false);
        let string = |value: &str| {
            Value::Str(StrLit {
                value: value.to_string(),
                span,
            })
        };
        // (extractor path, arguments) of an int signal, or of a bool one for `sequence`.
        let (path, args, ty): (&[&str], Option<Vec<Arg>>, &str) = match (family, kind, source_type)
        {
            ("structure", "count", "regex") => {
                let pattern = source.get("pattern").and_then(Node::as_str)?;
                regex::Regex::new(pattern).ok()?;
                (&["regex"], Some(vec![arg(None, string(pattern))]), "int")
            }
            ("structure", "sequence", "sequence") => {
                let sequences = source.get("sequences").and_then(Node::as_seq)?;
                let mut patterns = Vec::new();
                for s in sequences {
                    let words: Option<Vec<&str>> = s.as_seq()?.iter().map(Node::as_str).collect();
                    let words = words?;
                    if words.is_empty() {
                        return None;
                    }
                    let flags = if case_sensitive { "(?s)" } else { "(?is)" };
                    let body: Vec<String> = words.iter().map(|w| regex::escape(w)).collect();
                    patterns.push(arg(None, string(&format!("{flags}{}", body.join(".*?")))));
                }
                (&["regex"], Some(patterns), "bool")
            }
            ("conversation", "count" | "exists", "message") => {
                let role = source.get("role").and_then(Node::as_str)?;
                if !crate::policy::MESSAGE_ROLES.contains(&role) {
                    return None;
                }
                let word = Value::Name(Ident {
                    name: role.into(),
                    span,
                });
                (
                    &["length", "messages"],
                    Some(vec![arg(Some("role"), word)]),
                    "int",
                )
            }
            ("conversation", "count" | "exists", "tool_definition") => {
                (&["request", "tools"], None, "int")
            }
            ("conversation", "count" | "exists", "image_content") => {
                (&["request", "images"], None, "int")
            }
            ("structure", "count", "text_bytes") => (&["length", "bytes"], None, "int"),
            _ => return None,
        };
        let (lo, hi) = if ty == "bool" {
            (None, None)
        } else if kind == "exists" {
            (Some(1), None)
        } else {
            let predicate = rule.get("predicate")?;
            let int = |key: &str| match predicate.get(key).map(|n| &n.value) {
                Some(super::node::Value::Int(i)) => Some(Some(*i)),
                Some(super::node::Value::Float(f)) if f.fract() == 0.0 => Some(Some(*f as i64)),
                None => Some(None),
                Some(_) => None,
            };
            let (gt, gte, lt, lte, eq) =
                (int("gt")?, int("gte")?, int("lt")?, int("lte")?, int("eq")?);
            let lo = [gt.map(|v| v + 1), gte, eq].into_iter().flatten().max();
            let hi = [lt.map(|v| v - 1), lte, eq].into_iter().flatten().min();
            if lo.is_none() && hi.is_none() {
                return None;
            }
            (lo, hi)
        };
        let n = self.signal_names.allocate(name, prefix);
        self.push_signal(&n, span, simple_type(ty, span), path, args);
        Some(if ty == "bool" {
            Atom::Bool(n)
        } else {
            Atom::Between(n, lo, hi)
        })
    }

    /// Projection mappings: one external string signal per mapping, whose value is the
    /// output band; rule leaves `type: projection` name a band.
    fn projections(
        &mut self,
        scope: &str,
        node: Option<&Node>,
        mut signals: HashMap<(String, String), Atom>,
    ) -> HashMap<(String, String), Atom> {
        let Some(node) = node else { return signals };
        if self.r.map(node, "`projections`", PROJECTIONS).is_none() {
            return signals;
        }
        let mappings = match node.get("mappings") {
            Some(m) => self.r.seq(m, "`mappings`").unwrap_or(&[]),
            None => &[],
        };
        for m in mappings {
            if self
                .r
                .map(m, "a projection mapping", PROJECTION_MAPPING)
                .is_none()
            {
                continue;
            }
            let Some(name_node) = self.r.required(m, "name", "a projection mapping") else {
                continue;
            };
            let Some(name) = self.r.text_of(name_node, "a mapping's `name`") else {
                continue;
            };
            let signal = self.external("projections", scope, &name, name_node.span, "string", true);
            let outputs = match m.get("outputs") {
                Some(o) => self.r.seq(o, "`outputs`").unwrap_or(&[]),
                None => &[],
            };
            for o in outputs {
                if let Some(out) = o
                    .get("name")
                    .and_then(|n| self.r.text_of(n, "an output's `name`"))
                {
                    signals.insert(
                        ("projection".to_string(), out.clone()),
                        Atom::Is(signal.clone(), out),
                    );
                }
            }
        }
        for key in ["partitions", "scores"] {
            if let Some(n) = node.get(key) {
                let count = n.as_seq().map_or(0, <[Node]>::len);
                if count > 0 {
                    self.group(
                        &codes::W0402,
                        n.span,
                        format!("projection `{key}` are not computed"),
                        "they feed the projection mappings, which are declared as external signals",
                        scope_name(scope),
                    );
                }
            }
        }
        signals
    }

    fn decision(
        &mut self,
        d: &Node,
        signals: &HashMap<(String, String), Atom>,
        scope: &str,
        seen: &mut HashMap<String, Span>,
    ) -> Option<Lowered> {
        self.r.map(d, "a decision", DECISION)?;
        let name_node = self.r.required(d, "name", "a decision")?;
        let name = self.r.text_of(name_node, "a decision's `name`")?;
        if let Some(first) = seen.get(&name) {
            self.r.push(
                Diagnostic::new(
                    &codes::E0205,
                    name_node.span,
                    format!("duplicate decision `{name}`"),
                )
                .with_label("a second decision of this name")
                .with_related(*first, "first declared here")
                .with_help("decision names are unique; rename one of them"),
            );
            return None;
        }
        seen.insert(name.clone(), name_node.span);
        let route_name = self.route_names.allocate(&name, scope);
        let priority = match d.get("priority") {
            Some(p) => self.r.int(p, "`priority`")?,
            None => 0,
        };
        let tier = match d.get("tier") {
            Some(t) => self.r.int(t, "`tier`")?,
            None => 0,
        };
        let (condition, catch_all) = match d.get("rules") {
            None => (None, true),
            Some(rules) => {
                let empty = rules.get("type").is_none()
                    && rules
                        .get("conditions")
                        .and_then(Node::as_seq)
                        .is_none_or(<[Node]>::is_empty)
                    && rules
                        .get("operator")
                        .and_then(Node::as_str)
                        .is_none_or(|o| !o.eq_ignore_ascii_case("NOT"));
                if empty {
                    self.r.map(rules, "`rules`", RULE)?;
                    (None, true)
                } else {
                    (Some(self.rule(rules, signals, 0)?), false)
                }
            }
        };
        let action = self.decision_action(d, &name)?;
        let mut notes = Vec::new();
        if let Some(desc) = d.get("description").and_then(Node::as_str) {
            notes.push(desc.to_string());
        }
        Some(Lowered {
            name: Ident {
                name: crate::syntax::ast::Name::from(route_name),
                span: name_node.span,
            },
            vsr_name: name,
            priority,
            tier,
            catch_all,
            condition,
            action,
            span: d.span,
            notes,
        })
    }

    fn rule(
        &mut self,
        node: &Node,
        signals: &HashMap<(String, String), Atom>,
        depth: usize,
    ) -> Option<Expr> {
        let span = node.span;
        if let Some(ty) = node.get("type") {
            let ty = self.r.text_of(ty, "a condition's `type`")?;
            let known = if ty == "classifier" {
                CLASSIFIER_LEAF
            } else {
                RULE
            };
            self.r.map(node, "a condition", known)?;
            if node.get("operator").is_some() || node.get("conditions").is_some() {
                self.r.push(
                    Diagnostic::new(
                        &codes::E0408,
                        span,
                        "a condition has both `type` and `operator`",
                    )
                    .with_label("a leaf or a group, not both"),
                );
                return None;
            }
            let name_node = self.r.required(node, "name", "a condition")?;
            let name = self.r.text_of(name_node, "a condition's `name`")?;
            let leaf_types: Vec<&str> =
                FAMILIES.iter().map(|f| f.1).chain(["projection"]).collect();
            if !leaf_types.contains(&ty.as_str()) {
                let at = node.get("type").map_or(span, |n| n.span);
                self.r.push(
                    Diagnostic::new(&codes::E0408, at, format!("unknown condition type `{ty}`"))
                        .with_label("not a signal family")
                        .with_suggestion(&ty, at, leaf_types.iter().copied()),
                );
                return None;
            }
            // Complexity leaves are `rule:level`.
            let (lookup, level) = match (ty.as_str(), name.rsplit_once(':')) {
                ("complexity", Some((rule, level))) => (rule.to_string(), Some(level.to_string())),
                _ => (name.clone(), None),
            };
            let Some(atom) = signals.get(&(ty.clone(), lookup.clone())) else {
                if self.signals_incomplete {
                    return None;
                }
                let candidates: Vec<&str> = signals
                    .keys()
                    .filter(|(t, _)| *t == ty)
                    .map(|(_, n)| n.as_str())
                    .collect();
                let d = Diagnostic::new(
                    &codes::E0201,
                    name_node.span,
                    format!("unknown {ty} signal `{name}`"),
                )
                .with_label(format!("no `{ty}` signal of this name is declared"))
                .with_suggestion(
                    &lookup,
                    name_node.span,
                    candidates.iter().copied(),
                );
                let d = if d.help.is_none() {
                    d.with_help(match candidates.len() {
                        0 => format!("declare it under `routing.signals`; this routing has no `{ty}` signals"),
                        _ => format!("the `{ty}` signals here are {}", list(&candidates)),
                    })
                } else {
                    d
                };
                self.r.push(d);
                return None;
            };
            let atom = match (ty.as_str(), atom, level) {
                ("complexity", Atom::Is(s, _), Some(level)) => Atom::Is(s.clone(), level),
                // A complexity rule named without a level matches at any level.
                ("complexity", Atom::Is(s, _), None) => Atom::OneOf(
                    s.clone(),
                    ["easy", "medium", "hard"].map(String::from).to_vec(),
                ),
                (_, a, _) => a.clone(),
            };
            return Some(atom_expr(&atom, name_node.span));
        }
        if depth > 40 {
            self.r.push(
                Diagnostic::new(&codes::E0408, span, "rules nest too deeply")
                    .with_label("more than 40 levels"),
            );
            return None;
        }
        self.r.map(node, "a rule", RULE)?;
        let op_node = self.r.required(node, "operator", "a rule group")?;
        let op = self.r.text_of(op_node, "`operator`")?.to_ascii_uppercase();
        let children = match node.get("conditions") {
            Some(c) => self.r.seq(c, "`conditions`")?,
            None => &[],
        };
        let mut exprs = Vec::new();
        let mut ok = true;
        for c in children {
            match self.rule(c, signals, depth + 1) {
                Some(e) => exprs.push(e),
                None => ok = false,
            }
        }
        match op.as_str() {
            "NOT" => {
                if children.len() != 1 {
                    self.r.push(
                        Diagnostic::new(
                            &codes::E0408,
                            op_node.span,
                            format!("`NOT` takes exactly one condition, not {}", children.len()),
                        )
                        .with_label("vLLM treats this as never matching")
                        .with_help("wrap several conditions in an `AND` or `OR` under the `NOT`"),
                    );
                    return None;
                }
                let inner = exprs.pop()?;
                Some(Expr::Not(Box::new(paren(inner)), span))
            }
            "AND" | "OR" => {
                if children.is_empty() {
                    self.r.push(
                        Diagnostic::new(&codes::E0408, op_node.span, format!("empty `{op}` group"))
                            .with_label("no conditions")
                            .with_help("an empty group is allowed only as a decision's whole rule (a catch-all)"),
                    );
                    return None;
                }
                if !ok {
                    return None;
                }
                if exprs.len() == 1 {
                    return exprs.pop();
                }
                Some(group(op == "AND", exprs, span))
            }
            other => {
                self.r.push(
                    Diagnostic::new(
                        &codes::E0408,
                        op_node.span,
                        format!("unknown operator `{other}`"),
                    )
                    .with_label("expected `AND`, `OR` or `NOT`")
                    .with_suggestion(other, op_node.span, ["AND", "OR", "NOT"]),
                );
                None
            }
        }
    }

    fn decision_action(&mut self, d: &Node, name: &str) -> Option<Action> {
        let refs = match d.get("modelRefs") {
            Some(m) => self.r.seq(m, "`modelRefs`")?,
            None => &[],
        };
        for m in refs {
            self.r.map(m, "a model reference", MODEL_REF)?;
        }
        let algorithm = d.get("algorithm");
        let algo = algorithm
            .and_then(|a| a.get("type"))
            .and_then(Node::as_str)
            .unwrap_or("static");
        if let Some(a) = algorithm {
            if a.get("type").is_none() {
                self.r.required(a, "type", "`algorithm`");
            }
        }
        if algo != "static" {
            self.group(
                &codes::W0403,
                algorithm.map_or(d.span, |a| a.span),
                format!("model selection algorithm `{algo}` is not applied"),
                "routerc sends the request to the decision's first model reference",
                name,
            );
        } else if refs.len() > 1 {
            self.group(
                &codes::W0403,
                refs[1].span,
                "several model references: the first is used".to_string(),
                "routerc sends the request to the decision's first model reference",
                name,
            );
        }
        let mut fields = Vec::new();
        let field = |key: &str, value: Value, span: Span| Field {
            key: Ident {
                name: crate::syntax::ast::Name::from(key),
                span,
            },
            value,
            span,
        };
        let mut reject: Option<Action> = None;
        for p in d.get("plugins").and_then(Node::as_seq).unwrap_or(&[]) {
            self.r.map(p, "a plugin", PLUGIN)?;
            let ty_node = self.r.required(p, "type", "a plugin")?;
            let ty = self.r.text_of(ty_node, "a plugin's `type`")?;
            let config = p.get("configuration");
            if config
                .and_then(|c| c.get("enabled"))
                .and_then(|e| match e.value {
                    Y::Bool(b) => Some(b),
                    _ => None,
                })
                == Some(false)
            {
                continue;
            }
            let config_node = config.cloned().unwrap_or(Node {
                value: Y::Null,
                span: p.span,
            });
            match ty.as_str() {
                "system_prompt" => {
                    self.r.map(&config_node, "the `system_prompt` plugin", &["enabled", "mode", "system_prompt"])?;
                    let text_node = self.r.required(&config_node, "system_prompt", "the `system_prompt` plugin")?;
                    let text = self.r.text_of(text_node, "`system_prompt`")?;
                    fields.push(field("system_prompt", Value::Str(StrLit { value: text, span: text_node.span }), text_node.span));
                    if let Some(mode) = config_node.get("mode") {
                        let m = self.r.text_of(mode, "`mode`")?;
                        match m.as_str() {
                            "replace" => {}
                            "insert" | "prepend" => fields.push(field(
                                "system_prompt_mode",
                                Value::Name(Ident { name: "prepend".into(), span: mode.span }),
                                mode.span,
                            )),
                            other => {
                                self.r.push(
                                    Diagnostic::new(&codes::E0406, mode.span, format!("unknown system prompt mode `{other}`"))
                                        .with_label("expected `replace` or `insert`")
                                        .with_suggestion(other, mode.span, ["replace", "insert"]),
                                );
                                return None;
                            }
                        }
                    }
                }
                "request_params" => {
                    self.r.map(&config_node, "the `request_params` plugin", &["enabled", "max_tokens", "max_tokens_limit", "blocked_params", "max_n", "strip_unknown"])?;
                    for key in ["max_tokens", "max_tokens_limit"] {
                        if let Some(n) = config_node.get(key) {
                            let v = self.r.int(n, &format!("`{key}`"))?;
                            fields.push(field("max_tokens", Value::Int(IntLit { value: v, span: n.span }), n.span));
                            if key == "max_tokens_limit" {
                                self.group(
                                    &codes::W0403,
                                    n.span,
                                    "`max_tokens_limit` sets `max_tokens`".to_string(),
                                    "routerc sets `max_tokens` to the limit rather than lowering only larger client values",
                                    name,
                                );
                            }
                            break;
                        }
                    }
                    for key in ["blocked_params", "max_n", "strip_unknown"] {
                        if let Some(n) = config_node.get(key) {
                            self.group(
                                &codes::W0402,
                                n.span,
                                format!("request parameter rule `{key}` is not applied"),
                                "routerc sets parameters; it does not filter the client's",
                                name,
                            );
                        }
                    }
                }
                "fast_response" => {
                    self.r.map(&config_node, "the `fast_response` plugin", &["enabled", "message"])?;
                    let msg_node = self.r.required(&config_node, "message", "the `fast_response` plugin")?;
                    let message = self.r.text_of(msg_node, "`message`")?;
                    self.group(
                        &codes::W0403,
                        msg_node.span,
                        "`fast_response` answers with an error".to_string(),
                        "routerc rejects the request with status 403 and the message, where vLLM returns it as an assistant reply",
                        name,
                    );
                    reject = Some(Action::Reject {
                        status: IntLit { value: 403, span: ty_node.span },
                        message: StrLit { value: message, span: msg_node.span },
                        span: p.span,
                    });
                }
                "header_mutation" => {
                    self.r.map(&config_node, "the `header_mutation` plugin", &["enabled", "add", "update", "delete"])?;
                    let mut headers = Vec::new();
                    for key in ["add", "update"] {
                        for h in config_node.get(key).and_then(Node::as_seq).unwrap_or(&[]) {
                            self.r.map(h, "a header", &["name", "value"])?;
                            let n = self.r.required(h, "name", "a header")?;
                            let v = self.r.required(h, "value", "a header")?;
                            let hn = self.r.text_of(n, "a header name")?;
                            let hv = self.r.text_of(v, "a header value")?;
                            headers.push(field(&header_key(&hn), Value::Str(StrLit { value: hv, span: v.span }), n.span));
                        }
                    }
                    if let Some(del) = config_node.get("delete") {
                        self.group(
                            &codes::W0402,
                            del.span,
                            "header deletion is not applied".to_string(),
                            "routerc adds headers to the upstream request; it does not remove the client's",
                            name,
                        );
                    }
                    if !headers.is_empty() {
                        fields.push(field("upstream_headers", Value::Map(headers, config_node.span), config_node.span));
                    }
                }
                other => self.group(
                    &codes::W0402,
                    ty_node.span,
                    format!("plugin `{other}` is not applied"),
                    "routerc carries the plugin but does not run it; the routing decision is the same",
                    name,
                ),
            }
        }
        if let Some(r) = reject {
            return Some(r);
        }
        let Some(first) = refs.first() else {
            let at = d.get("name").map_or(d.span, |n| n.span);
            self.r.push(
                Diagnostic::new(
                    &codes::E0407,
                    at,
                    format!("decision `{name}` has no `modelRefs`"),
                )
                .with_label("no model to route to")
                .with_help("add `modelRefs: [{ model: NAME }]`"),
            );
            return None;
        };
        let model_node = self.r.required(first, "model", "a model reference")?;
        let model = self.r.text_of(model_node, "`model`")?;
        let backend = self.backend_ref(&model, model_node.span)?;
        let reasons = self.models.get(&model).is_some_and(|(_, r)| *r);
        let use_reasoning = match first.get("use_reasoning") {
            Some(n) => Some(self.r.bool(n, "`use_reasoning`")?),
            None => None,
        };
        let effort = match first.get("reasoning_effort") {
            Some(n) => Some((self.r.text_of(n, "`reasoning_effort`")?, n.span)),
            None => None,
        };
        if reasons {
            let chosen = match (use_reasoning, effort) {
                (Some(false), _) => Some(("none".to_string(), first.span)),
                (Some(true), Some(e)) | (None, Some(e)) => Some(e),
                (Some(true), None) => Some((
                    self.default_effort
                        .clone()
                        .unwrap_or_else(|| "medium".to_string()),
                    first.span,
                )),
                (None, None) => None,
            };
            if let Some((mut e, span)) = chosen {
                if matches!(e.as_str(), "max" | "xhigh") {
                    self.group(
                        &codes::W0403,
                        span,
                        format!("`reasoning_effort: {e}` is sent as `high`"),
                        "routerc's efforts are none, minimal, low, medium and high",
                        name,
                    );
                    e = "high".to_string();
                }
                fields.insert(
                    0,
                    field(
                        "reasoning_effort",
                        Value::Name(Ident {
                            name: crate::syntax::ast::Name::from(e),
                            span,
                        }),
                        span,
                    ),
                );
            }
        }
        Some(Action::Backend {
            backend,
            fields,
            span: first.span,
        })
    }

    /// Routes in vLLM's selection order, with priorities that make routerc choose the same
    /// decision. Selected by priority: routerc's first match (priority descending, then
    /// source order). Ranked by confidence: one priority per (tier, catch-all) band, so the
    /// band is a routerc tier whose most confident match wins, ties going to source order,
    /// which is vLLM's priority then name.
    fn order(&mut self, mut decisions: Vec<Lowered>, gate: Option<Expr>) {
        if decisions.is_empty() {
            return;
        }
        let tiered = decisions.iter().any(|d| d.tier > 0);
        let key = |d: &Lowered| {
            (
                if tiered { d.tier } else { 0 },
                d.catch_all,
                std::cmp::Reverse(d.priority),
                d.vsr_name.clone(),
            )
        };
        decisions.sort_by_key(key);
        // Equal priorities within a tier: vLLM prefers the higher confidence when both rules
        // report comparable scores, and the name otherwise; routerc uses the name.
        for w in decisions.windows(2) {
            if !self.ranked
                && key(&w[0]).0 == key(&w[1]).0
                && !w[0].catch_all
                && !w[1].catch_all
                && w[0].priority == w[1].priority
            {
                self.group(
                    &codes::W0403,
                    w[1].name.span,
                    "decisions of equal priority are ordered by name".to_string(),
                    "where both match, vLLM may prefer the one with the higher rule confidence",
                    &w[1].vsr_name,
                );
            }
        }
        // The written priorities already give this order when they never increase along it
        // (under selection by confidence, only if they also never repeat).
        let keep = decisions.windows(2).all(|w| {
            w[0].priority > w[1].priority
                || (!self.by_confidence
                    && w[0].priority == w[1].priority
                    && w[0].catch_all == w[1].catch_all)
        }) && !self.ranked;
        let count = decisions.len() as i64;
        let (min, max) = decisions.iter().fold((i64::MAX, i64::MIN), |(lo, hi), d| {
            (lo.min(d.priority), hi.max(d.priority))
        });
        let width = max.saturating_sub(min).saturating_add(1);
        let mut scale: i64 = 10;
        while scale < width && scale < i64::MAX / 100 {
            scale = scale.saturating_mul(10);
        }
        let mut bands: Vec<(i64, bool)> = decisions
            .iter()
            .map(|d| (if tiered { d.tier } else { 0 }, d.catch_all))
            .collect();
        bands.dedup();
        let band_count = bands.len() as i64;
        for (index, d) in decisions.into_iter().enumerate() {
            let band = bands
                .iter()
                .position(|b| *b == (if tiered { d.tier } else { 0 }, d.catch_all))
                .unwrap_or(0) as i64;
            let priority = if keep {
                d.priority
            } else if self.ranked {
                band_count - band
            } else if self.by_confidence {
                // Another routing ranks by confidence: a tier per decision keeps this one's
                // first match.
                count - index as i64
            } else {
                (band_count - band)
                    .saturating_mul(scale)
                    .saturating_add(d.priority.saturating_sub(min))
            };
            let mut notes = d.notes.clone();
            if !keep {
                let tier = if d.tier > 0 {
                    format!("tier {}, ", d.tier)
                } else {
                    String::new()
                };
                let catch = if d.catch_all { ", catch-all" } else { "" };
                notes.push(format!("vLLM: {tier}priority {}{catch}", d.priority));
            }
            if d.vsr_name != d.name.name {
                notes.push(format!("vLLM decision `{}`", d.vsr_name));
            }
            let condition = match (&gate, d.condition) {
                (None, None) => Expr::Operand(Operand::Bool(true, d.name.span)),
                (Some(g), None) => g.clone(),
                (None, Some(c)) => c,
                (Some(g), Some(c)) => group(true, vec![g.clone(), c], d.span),
            };
            if !notes.is_empty() {
                self.notes.push((self.items.len(), notes.join("\n")));
            }
            self.items.push(Item::Route(Box::new(RouteDecl {
                name: d.name,
                priority: Some(Priority {
                    value: priority,
                    span: d.span,
                }),
                condition,
                action: d.action,
                span: d.span,
            })));
        }
    }
}

/// A decision, lowered but not yet placed.
struct Lowered {
    name: Ident,
    vsr_name: String,
    priority: i64,
    tier: i64,
    catch_all: bool,
    condition: Option<Expr>,
    action: Action,
    span: Span,
    notes: Vec<String>,
}

fn atom_expr(atom: &Atom, span: Span) -> Expr {
    let cmp = |signal: &str, op: CmpOp, rhs: Operand| Expr::Compare {
        lhs: path(signal, span),
        op,
        op_span: span,
        rhs,
        span,
    };
    let num = |v: f64| {
        if v.fract() == 0.0 && v.abs() < 1e15 {
            Operand::Int(IntLit {
                value: v as i64,
                span,
            })
        } else {
            Operand::Float(FloatLit { value: v, span })
        }
    };
    match atom {
        Atom::Bool(s) => Expr::Operand(path(s, span)),
        Atom::AtLeast(s, t) => cmp(s, CmpOp::Ge, num(*t)),
        Atom::Between(s, lo, hi) => {
            let mut parts = Vec::new();
            if let Some(lo) = lo {
                parts.push(cmp(s, CmpOp::Ge, Operand::Int(IntLit { value: *lo, span })));
            }
            if let Some(hi) = hi {
                parts.push(cmp(s, CmpOp::Le, Operand::Int(IntLit { value: *hi, span })));
            }
            match parts.len() {
                0 => cmp(s, CmpOp::Ge, Operand::Int(IntLit { value: 0, span })),
                1 => parts.remove(0),
                _ => Expr::And(parts, span),
            }
        }
        Atom::Is(s, v) => cmp(
            s,
            CmpOp::Eq,
            Operand::Str(StrLit {
                value: v.clone(),
                span,
            }),
        ),
        Atom::OneOf(s, labels) => Expr::In {
            lhs: path(s, span),
            set: InSet::List(
                labels
                    .iter()
                    .map(|l| {
                        Operand::Str(StrLit {
                            value: l.clone(),
                            span,
                        })
                    })
                    .collect(),
                span,
            ),
            negated: false,
            span,
        },
        Atom::AnyOf(s, labels) => {
            let mut parts: Vec<Expr> = labels
                .iter()
                .map(|l| Expr::In {
                    lhs: label_operand(l, span),
                    set: InSet::Operand(path(s, span)),
                    negated: false,
                    span,
                })
                .collect();
            match parts.len() {
                // Every type is allowed: nothing can trigger the rule.
                0 => Expr::Operand(Operand::Bool(false, span)),
                1 => parts.remove(0),
                _ => Expr::Or(parts, span),
            }
        }
        Atom::All(signals) => {
            let mut parts: Vec<Expr> = signals
                .iter()
                .map(|s| Expr::Operand(path(s, span)))
                .collect();
            match parts.len() {
                1 => parts.remove(0),
                _ => Expr::And(parts, span),
            }
        }
        Atom::NotAny(s) => Expr::Not(Box::new(Expr::Operand(path(s, span))), span),
    }
}

/// A set label on the left of `in`: a bare name when it is one, else a string.
fn label_operand(l: &str, span: Span) -> Operand {
    if is_name(l) {
        path(l, span)
    } else {
        Operand::Str(StrLit {
            value: l.to_string(),
            span,
        })
    }
}

/// An `and` (or `or`) of `parts`, with nested groups of the same kind merged into it (the
/// same logic, fewer parentheses) and other groups parenthesised.
fn group(and: bool, parts: Vec<Expr>, span: Span) -> Expr {
    let mut items = Vec::new();
    for p in parts {
        match p {
            Expr::And(inner, _) if and => items.extend(inner),
            Expr::Or(inner, _) if !and => items.extend(inner),
            other => items.push(paren(other)),
        }
    }
    if and {
        Expr::And(items, span)
    } else {
        Expr::Or(items, span)
    }
}

/// Parenthesises `and` / `or` groups inside another group, so the printed text means the
/// same as the tree.
fn paren(e: Expr) -> Expr {
    match e {
        Expr::And(_, span) | Expr::Or(_, span) => Expr::Paren(Box::new(e), span),
        other => other,
    }
}

fn path(name: &str, span: Span) -> Operand {
    Operand::Path(Box::new(Path {
        base: Ident {
            name: crate::syntax::ast::Name::from(name),
            span,
        },
        member: None,
        index: None,
        span,
    }))
}

fn simple_type(name: &str, span: Span) -> TypeExpr {
    TypeExpr {
        name: Ident {
            name: crate::syntax::ast::Name::from(name),
            span,
        },
        labels: None,
        span,
    }
}

fn arg(name: Option<&str>, value: Value) -> Arg {
    let span = value.span();
    Arg {
        name: name.map(|n| Ident {
            name: crate::syntax::ast::Name::from(n),
            span,
        }),
        value,
        span,
    }
}

/// A header name as a `.route` map key (`_` stands for `-`).
fn header_key(name: &str) -> String {
    sanitize(name)
}

fn join(scope: &str, family: &str) -> String {
    if scope.is_empty() {
        family.to_string()
    } else {
        format!("{scope}_{family}")
    }
}

fn scope_name(scope: &str) -> &str {
    if scope.is_empty() {
        "routing"
    } else {
        scope
    }
}

/// A token count: `8000`, `"16K"`, `"1M"` (thousands and millions).
fn tokens(n: &Node) -> Option<i64> {
    match &n.value {
        Y::Int(i) if *i >= 0 => Some(*i),
        Y::Str { value, .. } => {
            let v = value.trim();
            let (digits, scale) = match v.chars().last()? {
                'k' | 'K' => (&v[..v.len() - 1], 1_000),
                'm' | 'M' => (&v[..v.len() - 1], 1_000_000),
                _ => (v, 1),
            };
            let base: f64 = digits.trim().parse().ok()?;
            let value = base * scale as f64;
            (0.0..9e18).contains(&value).then_some(value as i64)
        }
        _ => None,
    }
}

/// The first few names, then how many more.
fn shorten(names: &[String]) -> String {
    let shown: Vec<String> = names.iter().take(4).map(|n| format!("`{n}`")).collect();
    match names.len() {
        n if n > 4 => format!("{} and {} more", shown.join(", "), n - 4),
        _ => shown.join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_identifiers() {
        assert_eq!(sanitize("qwen/qwen3.5-rocm"), "qwen_qwen3_5_rocm");
        assert_eq!(sanitize("3d"), "_3d");
        assert_eq!(sanitize("route"), "route_");
        assert_eq!(sanitize(""), "_");
        let mut names = Names::default();
        assert_eq!(names.allocate("a-b", "kw"), "a_b");
        assert_eq!(names.allocate("a_b", "kw"), "kw_a_b");
        assert_eq!(names.allocate("a.b", "kw"), "a_b_2");
    }

    #[test]
    fn token_counts() {
        let n = |text: &str| {
            super::super::node::load(&format!("v: {text}"), crate::syntax::FileId(0))
                .0
                .unwrap()
        };
        let t = |text: &str| tokens(n(text).get("v").unwrap());
        assert_eq!(t("8000"), Some(8000));
        assert_eq!(t("16K"), Some(16_000));
        assert_eq!(t("1M"), Some(1_000_000));
        assert_eq!(t("\"2.5k\""), Some(2500));
        assert_eq!(t("lots"), None);
        assert_eq!(t("-5"), None);
    }
}
