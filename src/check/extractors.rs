//! Signal declarations: types, labels and extractors with their arguments.

use std::collections::HashMap;

use super::{duplicate, Checker, SignalEntry};
use crate::diagnostic::{codes, Diagnostic};
use crate::policy::*;
use crate::syntax::ast::{self, Value};
use crate::syntax::Span;

pub(crate) const TYPES: &[&str] = &[
    "bool",
    "int",
    "float",
    "string",
    "score",
    "similarity",
    "category",
    "set",
];

/// The extractors, as written: `classifier(…)`, `identity.role`, `length.tokens`, ….
pub(crate) const EXTRACTORS: &[&str] = &[
    "classifier",
    "token_classifier",
    "examples",
    "keyword",
    "regex",
    "header",
    "identity.role",
    "identity.user",
    "length.chars",
    "length.bytes",
    "length.tokens",
    "length.messages",
    "language",
    "request.model",
    "request.tools",
    "request.images",
    "request.metadata",
    "external",
];

/// The named arguments an extractor (as written: `classifier`, `length.tokens`) accepts.
pub(crate) fn named_args(extractor: &str) -> &'static [&'static str] {
    match extractor {
        "classifier" => &["label", "text"],
        "token_classifier" => &["text"],
        "examples" => &["model", "aggregate", "top_k", "text"],
        "keyword" => &["mode", "text"],
        "external" => &["rule"],
        "regex" | "language" | "length.chars" | "length.bytes" | "length.tokens" => &["text"],
        "length.messages" => &["text", "role"],
        _ => &[],
    }
}

impl Checker {
    pub(super) fn declare_signal(&mut self, s: &ast::SignalDecl) {
        if let Some(&id) = self.signal_ids.get(s.name.name.as_str()) {
            let first = self.signals[id.0 as usize].name_span;
            self.error(duplicate("signal", &s.name, first));
            // Still check the declaration itself, but do not register it.
            let _ = self.signal_type(&s.ty);
            return;
        }
        let ty = self.signal_type(&s.ty);
        let extractor = self.extractor(&s.extractor);
        let (ty, extractor) = match (ty, extractor) {
            (Some(ty), Some(ex)) => {
                if self.extractor_gives(&ex, &ty, s) {
                    (Some(ty), Some(ex))
                } else {
                    (None, None)
                }
            }
            _ => (None, None),
        };
        let id = SignalId(self.signals.len() as u32);
        self.signal_ids.insert(s.name.name.to_string(), id);
        self.signals.push(SignalEntry {
            name: s.name.name.to_string(),
            ty,
            extractor,
            span: s.span,
            name_span: s.name.span,
        });
        self.signal_uses.push(0);
    }

    fn signal_type(&mut self, t: &ast::TypeExpr) -> Option<Type> {
        let name = t.name.name.as_str();
        let takes_labels = matches!(name, "category" | "set");
        if !TYPES.contains(&name) {
            self.error(
                Diagnostic::new(&codes::E0206, t.name.span, format!("unknown type `{name}`"))
                    .with_label("not a signal type")
                    .with_suggestion(name, t.name.span, TYPES.iter().copied())
                    .with_help_if_none("signal types are bool, int, float, string, score, similarity, category(…) and set(…)"),
            );
            return None;
        }
        match (&t.labels, takes_labels) {
            (None, true) => {
                self.error(
                    Diagnostic::new(&codes::E0206, t.span, format!("`{name}` needs its labels"))
                        .with_label("no labels given")
                        .with_help(format!("list them: `{name}(label_a, label_b)`")),
                );
                None
            }
            (Some(_), false) => {
                self.error(
                    Diagnostic::new(&codes::E0206, t.span, format!("`{name}` takes no labels"))
                        .with_label("only `category` and `set` have labels"),
                );
                None
            }
            (None, false) => Some(match name {
                "bool" => Type::Bool,
                "int" => Type::Int,
                "float" => Type::Float,
                "string" => Type::String,
                "score" => Type::Score,
                _ => Type::Similarity,
            }),
            (Some(labels), true) => {
                let mut seen: HashMap<&str, Span> = HashMap::new();
                let mut ok = true;
                for l in labels {
                    if let Some(first) = seen.get(l.name.as_str()) {
                        self.error(
                            Diagnostic::new(
                                &codes::E0210,
                                l.span,
                                format!("duplicate label `{}`", l.name),
                            )
                            .with_label("listed twice")
                            .with_related(*first, "first listed here"),
                        );
                        ok = false;
                    } else if l.name.is_empty() {
                        self.error(
                            Diagnostic::new(&codes::E0306, l.span, "empty label")
                                .with_label("labels cannot be empty"),
                        );
                        ok = false;
                    } else {
                        seen.insert(&l.name, l.span);
                    }
                }
                if labels.is_empty() {
                    self.error(
                        Diagnostic::new(
                            &codes::E0206,
                            t.span,
                            format!("`{name}` needs at least one label"),
                        )
                        .with_label("empty label list"),
                    );
                    ok = false;
                }
                let labels: Vec<String> = labels.iter().map(|l| l.name.to_string()).collect();
                ok.then(|| {
                    if name == "category" {
                        Type::Category(labels)
                    } else {
                        Type::Set(labels)
                    }
                })
            }
        }
    }

    fn extractor(&mut self, e: &ast::Extractor) -> Option<Extractor> {
        let path: Vec<&str> = e.path.iter().map(|i| i.name.as_str()).collect();
        let joined = path.join(".");
        let path_span = e
            .path
            .first()
            .map(|f| f.span.to(e.path.last().map_or(f.span, |l| l.span)))
            .unwrap_or(e.span);
        if !EXTRACTORS.contains(&joined.as_str()) {
            self.error(
                Diagnostic::new(
                    &codes::E0207,
                    path_span,
                    format!("unknown extractor `{joined}`"),
                )
                .with_label("routerc has no extractor of this name")
                .with_suggestion(&joined, path_span, EXTRACTORS.iter().copied())
                .with_help_if_none(format!("the extractors are {}", EXTRACTORS.join(", "))),
            );
            return None;
        }
        let mut args = Args::new(self, e, &joined);
        let ex = match joined.as_str() {
            "classifier" => {
                let model = args.positional_string(self, 0, "the model name")?;
                let label = args.named_string(self, "label");
                let text = args.text(self);
                Extractor::Classifier { model, label, text }
            }
            "token_classifier" => {
                let model = args.positional_string(self, 0, "the model name")?;
                let text = args.text(self);
                Extractor::TokenClassifier { model, text }
            }
            "examples" => {
                let source = match args.positional(0) {
                    Some(Value::Str(s)) => ExampleSource::File(s.value.clone()),
                    Some(Value::List(items, _)) => {
                        let mut sentences = Vec::new();
                        for item in items {
                            match item {
                                Value::Str(s) if !s.value.trim().is_empty() => {
                                    sentences.push(s.value.clone())
                                }
                                other => self.error(
                                    Diagnostic::new(
                                        &codes::E0212,
                                        other.span(),
                                        "example sentences must be non-empty strings",
                                    )
                                    .with_label("not a sentence"),
                                ),
                            }
                        }
                        if sentences.is_empty() {
                            self.error(
                                Diagnostic::new(
                                    &codes::E0212,
                                    e.span,
                                    "`examples` needs at least one sentence",
                                )
                                .with_label("no example sentences"),
                            );
                            return None;
                        }
                        ExampleSource::Inline(sentences)
                    }
                    Some(other) => {
                        self.error(
                            Diagnostic::new(
                                &codes::E0212,
                                other.span(),
                                "`examples` takes a file name or a list of sentences",
                            )
                            .with_label("expected a string or a list of strings"),
                        );
                        return None;
                    }
                    None => {
                        self.error(
                            Diagnostic::new(&codes::E0212, e.span, "`examples` needs its examples")
                                .with_label("missing the first argument")
                                .with_help("write `examples(\"intents/hr.txt\")` or `examples([\"How many vacation days do I have?\", …])`"),
                        );
                        return None;
                    }
                };
                let model = args
                    .named_string(self, "model")
                    .unwrap_or_else(|| "minilm".to_string());
                let aggregate = match args
                    .named_word(self, "aggregate", &["max", "mean"])
                    .as_deref()
                {
                    Some("mean") => Aggregate::Mean,
                    _ => Aggregate::Max,
                };
                let top_k = args.named_int(self, "top_k", 1, 1000).unwrap_or(1) as u32;
                let text = args.text(self);
                Extractor::Examples {
                    source,
                    model,
                    aggregate,
                    top_k,
                    text,
                }
            }
            "keyword" | "regex" => {
                let strings = args.all_positional_strings(self)?;
                if strings.is_empty() {
                    self.error(
                        Diagnostic::new(
                            &codes::E0212,
                            e.span,
                            format!("`{joined}` needs at least one pattern"),
                        )
                        .with_label("nothing to match")
                        .with_help(format!("write `{joined}(\"Project Titan\")`")),
                    );
                    return None;
                }
                let text = args.text(self);
                if joined == "keyword" {
                    let mode = match args
                        .named_word(self, "mode", &["word", "substring", "exact"])
                        .as_deref()
                    {
                        Some("substring") => KeywordMode::Substring,
                        Some("exact") => KeywordMode::Exact,
                        _ => KeywordMode::Word,
                    };
                    Extractor::Keyword {
                        keywords: strings.into_iter().map(|(s, _)| s).collect(),
                        mode,
                        text,
                    }
                } else {
                    let mut ok = true;
                    for (pattern, span) in &strings {
                        if let Err(err) = regex::Regex::new(pattern) {
                            let first_line = err
                                .to_string()
                                .lines()
                                .last()
                                .unwrap_or("")
                                .trim()
                                .to_lowercase();
                            self.error(
                                Diagnostic::new(&codes::E0212, *span, "invalid regular expression")
                                    .with_label(first_line),
                            );
                            ok = false;
                        }
                    }
                    if !ok {
                        return None;
                    }
                    Extractor::Regex {
                        patterns: strings.into_iter().map(|(s, _)| s).collect(),
                        text,
                    }
                }
            }
            "header" => {
                let name = args.positional_string(self, 0, "the header name")?;
                if name.is_empty()
                    || !name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
                {
                    let span = args.positional(0).map_or(e.span, Value::span);
                    self.error(
                        Diagnostic::new(
                            &codes::E0212,
                            span,
                            format!("`{name}` is not a valid header name"),
                        )
                        .with_label("header names are letters, digits, `-` and `_`"),
                    );
                    return None;
                }
                Extractor::Header {
                    name: name.to_ascii_lowercase(),
                }
            }
            "request.model" => Extractor::RequestModel,
            "request.tools" => Extractor::RequestTools,
            "request.images" => Extractor::RequestImages,
            "request.metadata" => {
                let key = args.positional_string(self, 0, "the metadata key")?;
                Extractor::RequestMetadata { key }
            }
            "external" => {
                let family = args.positional_string(self, 0, "the signal family")?;
                let rule = args.named_string(self, "rule").unwrap_or_default();
                Extractor::External { family, rule }
            }
            "identity.role" | "identity.user" => Extractor::Identity {
                field: path[1].to_string(),
            },
            "length.chars" | "length.bytes" | "length.tokens" | "length.messages" => {
                let unit = match path[1] {
                    "chars" => LengthUnit::Chars,
                    "bytes" => LengthUnit::Bytes,
                    "tokens" => LengthUnit::Tokens,
                    _ => LengthUnit::Messages,
                };
                let text = args.text(self);
                let role = args.named_word(self, "role", MESSAGE_ROLES);
                Extractor::Length { unit, text, role }
            }
            _ => {
                let text = args.text(self);
                Extractor::Language { text }
            }
        };
        args.finish(self)?;
        Some(ex)
    }

    /// Whether `ex` can produce a value of type `ty`; reports E0305 when not.
    fn extractor_gives(&mut self, ex: &Extractor, ty: &Type, s: &ast::SignalDecl) -> bool {
        let ok = match (ex, ty) {
            (Extractor::Classifier { label: None, .. }, Type::Category(_)) => true,
            (Extractor::Classifier { label: Some(_), .. }, Type::Score) => true,
            (Extractor::Classifier { label: None, .. }, Type::Score) => {
                self.error(
                    Diagnostic::new(
                        &codes::E0212,
                        s.extractor.span,
                        "a `score` classifier needs `label:`",
                    )
                    .with_label("which label's probability is the score?")
                    .with_help("write `classifier(\"jailbreak\", label: \"jailbreak\")`"),
                );
                return false;
            }
            (Extractor::Classifier { label: Some(_), .. }, Type::Category(_)) => {
                self.error(
                    Diagnostic::new(
                        &codes::E0212,
                        s.extractor.span,
                        "`label:` selects a score, but the type is a category",
                    )
                    .with_label("remove `label:` for a category, or declare the signal as `score`"),
                );
                return false;
            }
            (Extractor::TokenClassifier { .. }, Type::Set(_)) => true,
            (Extractor::Examples { .. }, Type::Similarity) => true,
            (Extractor::Keyword { .. } | Extractor::Regex { .. }, Type::Bool) => true,
            // An `int` regex counts its matches.
            (Extractor::Regex { .. }, Type::Int) => true,
            (Extractor::Header { .. }, Type::String | Type::Int | Type::Float | Type::Bool) => true,
            (Extractor::Identity { .. } | Extractor::Language { .. }, Type::String) => true,
            (Extractor::Length { .. }, Type::Int) => true,
            (Extractor::RequestModel, Type::String) => true,
            (Extractor::RequestTools | Extractor::RequestImages, Type::Int) => true,
            (Extractor::RequestMetadata { .. }, Type::String) => true,
            // Declared for a family routerc cannot compute yet: any type, always absent.
            (Extractor::External { .. }, _) => true,
            _ => false,
        };
        if !ok {
            let written: Vec<&str> = s.extractor.path.iter().map(|i| i.name.as_str()).collect();
            let written = written.join(".");
            let gives = match ex {
                Extractor::Classifier { .. } => "a `category` (or a `score` with `label:`)",
                Extractor::TokenClassifier { .. } => "a `set`",
                Extractor::Examples { .. } => "a `similarity`",
                Extractor::Keyword { .. } => "a `bool`",
                Extractor::Regex { .. } => {
                    "a `bool` (a match), or an `int` (the number of matches)"
                }
                Extractor::Header { .. } => {
                    "a `string`, `int`, `float` or `bool` (parsed from the header's value)"
                }
                Extractor::Identity { .. }
                | Extractor::Language { .. }
                | Extractor::RequestModel
                | Extractor::RequestMetadata { .. } => "a `string`",
                Extractor::Length { .. } | Extractor::RequestTools | Extractor::RequestImages => {
                    "an `int`"
                }
                Extractor::External { .. } => "any type",
            };
            self.error(
                Diagnostic::new(
                    &codes::E0305,
                    s.ty.span,
                    format!("`{}` does not produce a `{}`", written, ty.keyword()),
                )
                .with_label(format!("declared as `{}`", ty.keyword()))
                .with_related(s.extractor.span, format!("this extractor gives {gives}")),
            );
        }
        ok
    }
}

/// The arguments of one extractor, consumed as they are read so that unknown or repeated
/// ones can be reported at the end.
struct Args<'a> {
    extractor: String,
    positional: Vec<&'a Value>,
    named: Vec<(&'a ast::Ident, &'a Value, bool)>,
    span: Span,
    has_parens: bool,
    positional_used: usize,
}

impl<'a> Args<'a> {
    fn new(checker: &mut Checker, e: &'a ast::Extractor, name: &str) -> Args<'a> {
        let mut positional = Vec::new();
        let mut named: Vec<(&ast::Ident, &Value, bool)> = Vec::new();
        for arg in e.args.iter().flatten() {
            match &arg.name {
                None if !named.is_empty() => {
                    checker.error(
                        Diagnostic::new(
                            &codes::E0212,
                            arg.span,
                            "positional argument after a named one",
                        )
                        .with_label("move it before the named arguments"),
                    );
                }
                None => positional.push(&arg.value),
                Some(n) => {
                    if let Some((first, _, _)) = named.iter().find(|(f, _, _)| f.name == n.name) {
                        checker.error(
                            Diagnostic::new(
                                &codes::E0212,
                                n.span,
                                format!("argument `{}` is given twice", n.name),
                            )
                            .with_label("repeated")
                            .with_related(first.span, "first given here"),
                        );
                    } else {
                        named.push((n, &arg.value, false));
                    }
                }
            }
        }
        Args {
            extractor: name.to_string(),
            positional,
            named,
            span: e.span,
            has_parens: e.args.is_some(),
            positional_used: 0,
        }
    }

    fn positional(&mut self, i: usize) -> Option<&'a Value> {
        self.positional_used = self.positional_used.max(i + 1);
        self.positional.get(i).copied()
    }

    fn positional_string(&mut self, checker: &mut Checker, i: usize, what: &str) -> Option<String> {
        match self.positional(i) {
            Some(Value::Str(s)) if !s.value.is_empty() => Some(s.value.clone()),
            Some(other) => {
                checker.error(
                    Diagnostic::new(
                        &codes::E0212,
                        other.span(),
                        format!("`{}` expects {what} as a string", self.extractor),
                    )
                    .with_label("expected a non-empty string")
                    .with_help_opt(match other {
                        Value::Name(n) => Some(format!("quote it: `\"{}\"`", n.name)),
                        _ => None,
                    }),
                );
                None
            }
            None => {
                checker.error(
                    Diagnostic::new(
                        &codes::E0212,
                        self.span,
                        format!("`{}` needs {what}", self.extractor),
                    )
                    .with_label("missing argument")
                    .with_help(format!("write `{}(\"…\")`", self.extractor)),
                );
                None
            }
        }
    }

    /// All positional arguments as strings (keywords, regexes). `None` when one is not.
    fn all_positional_strings(&mut self, checker: &mut Checker) -> Option<Vec<(String, Span)>> {
        self.positional_used = self.positional.len();
        let mut out = Vec::new();
        let mut ok = true;
        for v in &self.positional {
            match v {
                Value::Str(s) if !s.value.is_empty() => out.push((s.value.clone(), s.span)),
                Value::List(items, _) => {
                    for item in items {
                        match item {
                            Value::Str(s) if !s.value.is_empty() => {
                                out.push((s.value.clone(), s.span))
                            }
                            other => {
                                checker.error(
                                    Diagnostic::new(
                                        &codes::E0212,
                                        other.span(),
                                        "expected a non-empty string",
                                    )
                                    .with_label("not a string"),
                                );
                                ok = false;
                            }
                        }
                    }
                }
                other => {
                    checker.error(
                        Diagnostic::new(&codes::E0212, other.span(), "expected a non-empty string")
                            .with_label("not a string"),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    fn named(&mut self, name: &str) -> Option<&'a Value> {
        let entry = self.named.iter_mut().find(|(n, _, _)| n.name == name)?;
        entry.2 = true;
        Some(entry.1)
    }

    fn named_string(&mut self, checker: &mut Checker, name: &str) -> Option<String> {
        match self.named(name)? {
            Value::Str(s) if !s.value.is_empty() => Some(s.value.clone()),
            other => {
                checker.error(
                    Diagnostic::new(
                        &codes::E0212,
                        other.span(),
                        format!("`{name}:` expects a non-empty string"),
                    )
                    .with_label("not a string"),
                );
                None
            }
        }
    }

    fn named_word(&mut self, checker: &mut Checker, name: &str, words: &[&str]) -> Option<String> {
        match self.named(name)? {
            Value::Name(n) if words.contains(&n.name.as_str()) => Some(n.name.to_string()),
            // Quoted is accepted too: YAML writers and people often quote such words.
            Value::Str(s) if words.contains(&s.value.as_str()) => Some(s.value.clone()),
            other => {
                let shown = match other {
                    Value::Name(n) => n.name.to_string(),
                    Value::Str(s) => s.value.clone(),
                    _ => String::new(),
                };
                checker.error(
                    Diagnostic::new(
                        &codes::E0212,
                        other.span(),
                        format!("`{name}:` must be one of {}", words.join(", ")),
                    )
                    .with_label("not one of the accepted words")
                    .with_suggestion(
                        &shown,
                        other.span(),
                        words.iter().copied(),
                    ),
                );
                None
            }
        }
    }

    fn named_int(&mut self, checker: &mut Checker, name: &str, min: i64, max: i64) -> Option<i64> {
        match self.named(name)? {
            Value::Int(i) if (min..=max).contains(&i.value) => Some(i.value),
            other => {
                checker.error(
                    Diagnostic::new(
                        &codes::E0212,
                        other.span(),
                        format!("`{name}:` must be an integer from {min} to {max}"),
                    )
                    .with_label("out of range or not an integer"),
                );
                None
            }
        }
    }

    /// The `text:` argument: which part of the request the signal reads.
    fn text(&mut self, checker: &mut Checker) -> TextSource {
        match self
            .named_word(checker, "text", &["last_user", "conversation", "system"])
            .as_deref()
        {
            Some("conversation") => TextSource::Conversation,
            Some("system") => TextSource::System,
            _ => TextSource::LastUser,
        }
    }

    /// Reports arguments nobody read. `None` when there were any.
    fn finish(self, checker: &mut Checker) -> Option<()> {
        let mut ok = true;
        for v in self.positional.iter().skip(self.positional_used) {
            checker.error(
                Diagnostic::new(
                    &codes::E0212,
                    v.span(),
                    format!("`{}` takes no further arguments", self.extractor),
                )
                .with_label("unexpected argument"),
            );
            ok = false;
        }
        let read: Vec<String> = self
            .named
            .iter()
            .filter(|n| n.2)
            .map(|n| n.0.name.to_string())
            .collect();
        let known = named_args(&self.extractor);
        for (n, _, used) in &self.named {
            if !used && !read.iter().any(|r| r.as_str() == n.name.as_str()) {
                checker.error(
                    Diagnostic::new(
                        &codes::E0212,
                        n.span,
                        format!("`{}` has no argument `{}`", self.extractor, n.name),
                    )
                    .with_label("unknown argument")
                    .with_suggestion(&n.name, n.span, known.iter().copied())
                    .with_help_if_none(if known.is_empty() {
                        format!("`{}` takes no named arguments", self.extractor)
                    } else {
                        format!("its arguments are {}", known.join(", "))
                    }),
                );
                ok = false;
            }
        }
        if self.has_parens
            && matches!(
                self.extractor.as_str(),
                "identity.role"
                    | "identity.user"
                    | "request.model"
                    | "request.tools"
                    | "request.images"
            )
        {
            checker.error(
                Diagnostic::new(
                    &codes::E0212,
                    self.span,
                    format!("`{}` takes no arguments", self.extractor),
                )
                .with_label("remove the parentheses"),
            );
            ok = false;
        }
        ok.then_some(())
    }
}
