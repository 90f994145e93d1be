//! The table of diagnostic codes. Each code is stable once published: a code's meaning never
//! changes, retired codes are not reused. docs/diagnostics.md is checked against this table by
//! a test, so the two cannot drift apart.
//!
//! Ranges: E00xx source and tokens, E01xx syntax, E02xx names and declarations, E03xx types
//! and values, E04xx the YAML frontend, E05xx models and files that
//! signals need, W00xx lints, W04xx what the YAML frontend could not
//! carry over exactly (warnings).

use super::Severity;

#[derive(Debug, PartialEq, Eq)]
pub struct Code {
    pub id: &'static str,
    pub severity: Severity,
    /// A short name for the problem.
    pub title: &'static str,
    /// One or two sentences for docs/diagnostics.md, hover in the editor and `routerc explain`.
    pub doc: &'static str,
}

macro_rules! codes {
    ($($name:ident $sev:ident $title:literal $doc:literal;)*) => {
        $(
            pub static $name: Code = Code {
                id: stringify!($name),
                severity: Severity::$sev,
                title: $title,
                doc: $doc,
            };
        )*
        /// Every code, in the order of the table.
        pub static ALL: &[&Code] = &[$(&$name),*];
    };
}

codes! {
    E0001 Error "file is not valid UTF-8"
        "Policy files must be UTF-8. The diagnostic points at the first byte that is not.";
    E0002 Error "unrecognised character"
        "A character that starts no token of the language, such as `$` or `;`.";
    E0003 Error "unterminated string"
        "A string literal reaches the end of its line without a closing `\"`. Strings cannot span lines; write `\\n` for a line break.";
    E0004 Error "invalid escape"
        "Inside strings, `\\\\`, `\\\"`, `\\n`, `\\t`, `\\r`, `\\0` and `\\u{…}` are the only escapes.";
    E0005 Error "number out of range"
        "An integer literal does not fit in 64 bits, a number is not finite, or a number runs into letters (`5min`: durations take `ms`, `s` and `m`).";
    E0006 Error "nesting too deep"
        "Conditions and values may nest at most 64 levels (parentheses, `not`, `if`, lists, maps). Deeper nesting is refused rather than risking the compiler's stack.";
    E0007 Error "cannot read file"
        "An included file, or a file named on the command line, does not exist or cannot be read.";
    E0008 Error "include cycle"
        "A file includes itself, directly or through other files.";
    E0009 Error "file too large"
        "Policy files are limited to 64 MiB.";
    E0010 Error "includes nested too deeply"
        "A chain of includes is more than 32 files deep. Such chains are almost always an include that names itself through a different path.";
    E0101 Error "unexpected token"
        "The parser found a token where the grammar does not allow it. The message lists what would be accepted there. Parsing resumes at the next declaration, so later mistakes are still reported.";
    E0102 Error "unexpected end of file"
        "The file ends in the middle of a declaration.";
    E0201 Error "unknown signal"
        "A condition or value refers to a signal that is not declared. Declare it with `signal NAME: TYPE = EXTRACTOR`.";
    E0202 Error "unknown label"
        "A category or set label that the signal's type does not list. Labels are checked when the policy is compiled, so a typo can never silently stop a route from matching.";
    E0203 Error "unknown backend"
        "An action, `fallback` or test names a backend that is not declared.";
    E0204 Error "unknown prompt"
        "`system_prompt` names a prompt that is not declared. Write a string literal for an inline prompt.";
    E0205 Error "duplicate declaration"
        "Two signals, backends, prompts or routes share a name. Names are unique per kind across the policy and its includes.";
    E0206 Error "unknown type"
        "Signal types are `bool`, `int`, `float`, `string`, `score`, `similarity`, `category(…)` and `set(…)`.";
    E0207 Error "unknown extractor"
        "The right-hand side of a signal declaration names an extractor routerc does not have. docs/language.md lists them with their arguments.";
    E0208 Error "unknown field"
        "A backend declaration or action has a field routerc does not know. Unknown fields are errors, not warnings, because a misspelt field would otherwise be silently ignored.";
    E0209 Error "unknown property"
        "A signal is followed by `.NAME` that its type does not have: categories have `.confidence`, sets have `.count`.";
    E0210 Error "duplicate label"
        "A category or set type lists the same label twice.";
    E0211 Error "duplicate field"
        "A backend, action, map or test sets the same field twice.";
    E0212 Error "invalid extractor argument"
        "An extractor argument is unknown, missing, repeated or of the wrong kind.";
    E0213 Error "missing default route"
        "Every policy needs exactly one `default => …` route so that every request gets a decision.";
    E0214 Error "duplicate default route"
        "A policy has more than one `default` route.";
    E0215 Error "missing field"
        "A backend declaration lacks a required field (`url` and `model`).";
    E0216 Error "unknown route"
        "A test expects a route that is not declared.";
    E0217 Error "invalid selection"
        "`select by priority` (the default) or `select by confidence`, once per policy.";
    E0301 Error "type mismatch"
        "The two sides of a comparison, or a value and the field it is given to, have incompatible types: a score compared with a string, a label with an int.";
    E0302 Error "threshold out of range"
        "A score, confidence or probability is compared with a number outside [0, 1] (similarity: [-1, 1]), which would make the comparison constant.";
    E0303 Error "operator not supported"
        "The operator does not apply to this type: categories, sets, strings and booleans support `==`, `!=` and `in`; only numbers are ordered.";
    E0304 Error "not a condition"
        "A `when` clause or `if` must be a boolean: a `bool` signal, a comparison, or `true` / `false`.";
    E0305 Error "extractor does not produce this type"
        "The declared type and the extractor disagree: `classifier` gives a `category` or a `score`, `token_classifier` a `set`, `examples` a `similarity`, `keyword` and `regex` a `bool`, `length.*` an `int`, `identity.*` and `language` a `string`; `header` a `string`, or an `int`, `float` or `bool` parsed from the header's value.";
    E0306 Error "invalid value"
        "A field or parameter has a value outside what it accepts, such as `reasoning_effort: extreme`, a negative `max_tokens` or an empty list.";
    E0307 Error "invalid status code"
        "A reject status must be an HTTP error status between 400 and 599.";
    E0308 Error "invalid test value"
        "A test's `given` block sets a value that does not fit the signal's type.";
    E0401 Error "invalid YAML"
        "The file is not well-formed YAML: the message says what the YAML parser found and where. Tabs cannot indent YAML; use spaces.";
    E0402 Error "YAML document too large"
        "A YAML policy is limited to 8 MiB, 200,000 nodes (after expanding aliases) and one document, and an alias cannot refer to a collection that contains it. The limits stop alias bombs (\"billion laughs\"), recursive documents and runaway files with a precise error instead of exhausting memory.";
    E0403 Error "YAML nesting too deep"
        "Mappings and lists nest at most 64 levels in a YAML policy; deeper documents are refused before they are read further.";
    E0404 Error "duplicate YAML key"
        "A mapping has the same key twice. YAML parsers disagree on which one wins, so routerc refuses both.";
    E0405 Error "unknown YAML key"
        "A key routerc does not know in this place of a YAML policy. Unknown keys are errors, not warnings: a misspelt key would otherwise be ignored silently. The message suggests the closest known key.";
    E0406 Error "wrong YAML value type"
        "A value of the wrong kind for its key: a list where a mapping is expected, a string where a number is, and so on.";
    E0407 Error "missing YAML key"
        "A required key is absent, such as a decision's `name` or a model's `backend_refs`. A file that is neither a routerc YAML policy nor a vLLM Semantic Router config is reported here too.";
    E0408 Error "invalid rule tree"
        "A vLLM Semantic Router rule node is malformed: a `NOT` with other than one child, an unknown `operator`, an empty group, a leaf without `type` and `name`, or an unknown signal `type`.";
    E0409 Error "unknown reference in a vLLM config"
        "A vLLM Semantic Router config names a recipe or a reasoning family it does not declare. (Unknown signals and models are `E0201` and `E0203`.)";
    E0501 Error "model not installed"
        "A signal names a model (`classifier(\"domain\")`, `examples(…, model: \"minilm\")`) that is in none of the places model names resolve to: `--models DIR`, `ROUTERC_MODELS`, `models/` beside the policy or its parent folder, `models/` in the current folder (docs/language.md, \"Models\"). The help says where routerc looked and, for models it knows, the command that installs it.";
    E0502 Error "model cannot serve this signal"
        "The model directory exists but cannot be read (no config.json, an unsupported architecture) or does the wrong task: `classifier` needs a sequence classifier, `token_classifier` a token classifier, `examples` a sentence-embedding model.";
    E0503 Error "label not in the model"
        "A label the signal declares (or a `classifier`'s `label:`) is not one of the model's labels. Labels compare lowercase with spaces and hyphens as underscores, so a model's `computer science` is a policy's `computer_science`; a `token_classifier` set may also declare the types its validators find (`email`, `phone`, `ssn`, `credit_card`, `iban`, `ip_address`, `zip_code`). When several missing labels sit at one place (a vLLM config's PII signal declares all its entity types at the signal's name), one label there stands for them all.";
    E0504 Error "examples file cannot be read"
        "The file of example sentences given to `examples(\"FILE\")` does not exist relative to the policy file, cannot be read, or has no sentences (one per line; blank lines and lines starting with `#` are skipped).";
    W0001 Warning "unreachable route"
        "Every request this route would match is already taken by a route tried before it (higher priority, or same priority and earlier in the source). Delete the route or raise its priority.";
    W0002 Warning "condition always true"
        "The condition holds for every possible signal value, so the route shadows every route tried after it.";
    W0003 Warning "condition always false"
        "No signal values can satisfy the condition, so the route can never be chosen.";
    W0004 Warning "overlapping routes of equal priority"
        "Two routes declare the same priority and some request can match both. Source order decides between them, which is easy to break by moving code; give them different priorities or make the conditions exclusive.";
    W0005 Warning "unused signal"
        "The signal is declared but no route condition or action value reads it (tests do not count). Unused neural signals still cost a model in memory.";
    W0006 Warning "unused backend"
        "The backend is declared but no route sends requests to it.";
    W0007 Warning "unused prompt"
        "The prompt is declared but no route uses it.";
    W0401 Warning "signal family without an extractor"
        "A vLLM Semantic Router signal family that routerc cannot compute yet (such as `complexity` or `projections`). Its signals are declared with the `external` extractor, so every condition on them is false until the family is implemented: routes that need them do not fire. They are never dropped.";
    W0402 Warning "feature not applied"
        "A plugin or configuration section of a vLLM Semantic Router config that routerc carries but does not apply (response caches, RAG, memory, replay, listeners, global settings). The routing decision is unaffected; the side effect is missing.";
    W0403 Warning "selection differs"
        "The vLLM Semantic Router would choose differently in some cases: confidence-ranked selection, model-selection algorithms other than `static`, fuzzy keyword methods, weighted backends. The message says what routerc does instead; docs/yaml.md has the details.";
}

/// Looks a code up by its identifier (`E0201`).
pub fn find(id: &str) -> Option<&'static Code> {
    ALL.iter().copied().find(|c| c.id.eq_ignore_ascii_case(id))
}
