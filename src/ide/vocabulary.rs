//! The words of the language with a sentence of documentation each: what completion offers
//! and hover explains. The lists of names come from the checker (`crate::check`), so a field
//! the checker accepts cannot be missing here; a test checks every one has its sentence.

/// Declaration keywords, which start a top-level item.
pub const DECLARATIONS: &[(&str, &str)] = &[
    ("signal", "`signal NAME: TYPE = EXTRACTOR` declares a typed fact about the request."),
    ("backend", "`backend NAME { url: …, model: … }` declares an OpenAI-compatible server and the model it serves."),
    ("prompt", "`prompt NAME = \"…\"` declares a named system prompt."),
    ("route", "`route NAME [priority N] when CONDITION => ACTION`: requests matching the condition take this action. Higher priorities are tried first, then source order."),
    ("default", "`default => ACTION`: what happens to every request no route takes. A policy has exactly one."),
    ("test", "`test \"…\" { given { … } expect ROUTE { … } }`: a unit test of the policy, run by `routerc test`."),
    ("include", "`include \"path.route\"` adds the declarations of another file, relative to this one."),
    ("select", "`select by confidence`: among the matching routes of the highest priority, the most confident condition wins (`select by priority`, first match, is the default)."),
];

/// Other keywords.
pub const KEYWORDS: &[(&str, &str)] = &[
    ("priority", "Routes with a higher priority are tried first; routes without one have priority 0."),
    ("when", "The condition under which the route matches."),
    ("reject", "`=> reject STATUS \"message\"` refuses the request with an OpenAI-style error."),
    ("given", "The signal values of a test's request."),
    ("expect", "The route a test's request must take, and optionally the values its action sets."),
    ("and", "Both conditions hold; evaluation stops at the first false one, so cheap signals belong first."),
    ("or", "Either condition holds; evaluation stops at the first true one."),
    ("not", "The condition does not hold. Over an absent signal, `not` of a comparison is true."),
    ("in", "Membership: `domain in [math, physics]`, or `ssn in pii` for a set signal."),
    ("if", "`if CONDITION then A else B`: an action value chosen per request."),
    ("then", "The value when the `if` condition holds."),
    ("else", "The value when the `if` condition does not hold."),
    ("true", "The boolean constant."),
    ("false", "The boolean constant."),
];

/// Signal types.
pub const TYPES: &[(&str, &str)] = &[
    ("bool", "true or false (a keyword was found, a header is set)."),
    ("int", "A whole number, such as a length in tokens."),
    ("float", "A decimal number."),
    ("string", "Text, such as a header's value or the caller's role; compared with `==` and `in`."),
    ("score", "A probability in [0, 1], such as a classifier's jailbreak score."),
    ("similarity", "A cosine similarity in [-1, 1] to example sentences."),
    ("category", "One label out of a fixed list, with a probability per label: `sig == label`, `sig.confidence`, `sig[label]`."),
    ("set", "Any subset of a fixed list of labels (the PII types found): `label in sig`, `sig.count`."),
];

/// Extractors, as written in signal declarations.
pub const EXTRACTORS: &[(&str, &str)] = &[
    ("classifier", "A sequence-classification model (ModernBERT, mmBERT): a category, or one label's probability as a score. Expensive: computed only when evaluation reaches it."),
    ("token_classifier", "A token-classification model (PII): the set of entity types found. Expensive: computed only when evaluation reaches it."),
    ("examples", "Similarity of the request to example sentences, by sentence embeddings. Expensive: computed only when evaluation reaches it."),
    ("keyword", "Whether the text contains one of the keywords."),
    ("regex", "Whether the text matches one of the regular expressions; declared `int`, how many matches they find."),
    ("header", "The value of a request header."),
    ("identity.role", "The authenticated caller's role."),
    ("identity.user", "The authenticated caller's user name."),
    ("length.chars", "The length of the text in characters."),
    ("length.tokens", "The length of the text in tokens."),
    ("length.bytes", "The length of the text in UTF-8 bytes."),
    ("length.messages", "The number of messages in the conversation (of one role with `role:`)."),
    ("language", "The detected language of the text, as an ISO 639-1 code."),
    ("request.model", "The `model` the client asked for."),
    ("request.tools", "The number of tools the request defines."),
    ("request.images", "The number of image parts in the request's messages."),
    ("request.metadata", "A string value of the request's `metadata` object: `request.metadata(\"consent\")`."),
    (
        "external",
        "A signal routerc does not compute yet (from a vLLM Semantic Router config): always absent.",
    ),
];

/// Named extractor arguments.
pub const EXTRACTOR_ARGS: &[(&str, &str)] = &[
    ("label", "The label whose probability the signal reads, making a classifier signal a `score`."),
    ("text", "Which text the extractor reads: `last_user` (the default), `conversation` or `system`."),
    ("mode", "How keywords match: `word` (case-insensitive, on word boundaries; the default), `substring` or `exact`."),
    ("model", "The embedding model directory for `examples`."),
    ("aggregate", "How similarities to the examples combine: `max` (the default) or `mean`."),
    ("top_k", "With `aggregate: mean`, how many of the closest examples are averaged."),
    ("rule", "For `external`: the name of the vLLM Semantic Router rule the signal stands for."),
    ("role", "For `length.messages`: count only the messages of this role (`user`, `assistant`, `system`, `developer`, `tool`)."),
];

/// Fields of a `backend` declaration.
pub const BACKEND_FIELDS: &[(&str, &str)] = &[
    ("url", "The base URL of the OpenAI-compatible API, such as `http://127.0.0.1:8001/v1`."),
    ("model", "The model name sent upstream in place of `auto`."),
    ("reasoning", "How the backend takes reasoning effort: `effort` (the `reasoning_effort` parameter), `enable_thinking` (Qwen-style chat templates) or `none`."),
    ("api_key_env", "The environment variable holding the API key (keys are never written in policies)."),
    ("timeout", "The whole request's time limit, such as `30s`."),
    ("connect_timeout", "The time limit to connect, such as `2s`."),
    ("first_byte_timeout", "The time limit until the first byte of the response."),
    ("idle_timeout", "The longest pause allowed between streamed chunks."),
    ("max_retries", "How often a failed request is retried on this backend."),
    ("headers", "Static headers added to every upstream request: `{ \"x-team\": \"search\" }`."),
    ("ca_file", "A PEM file of certificate authorities for this https backend (a private CA), relative to the served policy's directory."),
];

/// Fields of a route's action.
pub const ACTION_FIELDS: &[(&str, &str)] = &[
    ("system_prompt", "The system prompt: a declared prompt's name or a string."),
    ("system_prompt_mode", "`replace` (the default) the client's system prompt, or `prepend` to it."),
    ("reasoning_effort", "`none`, `minimal`, `low`, `medium` or `high`, translated to the backend's reasoning family."),
    ("max_tokens", "The response's token budget."),
    ("temperature", "Sampling temperature, 0 to 2."),
    ("top_p", "Nucleus sampling, 0 to 1."),
    ("params", "Other request parameters, as a map."),
    ("headers", "Headers added to the response sent to the client."),
    ("upstream_headers", "Headers added to the request sent to the backend."),
    ("fallback", "Backends tried in order when this one fails: a name or a list of names."),
];

/// Fields of a test's `expect` block.
pub const EXPECT_FIELDS: &[(&str, &str)] = &[
    (
        "reasoning_effort",
        "The `reasoning_effort` the route must set.",
    ),
    ("max_tokens", "The `max_tokens` the route must set."),
    ("system_prompt", "The system prompt the route must set."),
    ("temperature", "The `temperature` the route must set."),
    ("top_p", "The `top_p` the route must set."),
    ("status", "The HTTP status of a rejecting route."),
    ("message", "The message of a rejecting route."),
];

/// Members of labelled signals.
pub const MEMBERS: &[(&str, &str, &str)] = &[
    (
        "category",
        "confidence",
        "The probability of the top label, in [0, 1].",
    ),
    ("set", "count", "How many of the labels were found."),
];

/// Words a value position accepts, by field.
pub fn value_words(field: &str) -> &'static [&'static str] {
    match field {
        "reasoning_effort" => &["none", "minimal", "low", "medium", "high"],
        "system_prompt_mode" => &["replace", "prepend"],
        "reasoning" => &["effort", "enable_thinking", "none"],
        "text" => &["last_user", "conversation", "system"],
        "mode" => &["word", "substring", "exact"],
        "aggregate" => &["max", "mean"],
        _ => &[],
    }
}

/// The sentence for `word` in `table`.
pub fn doc(table: &[(&str, &'static str)], word: &str) -> Option<&'static str> {
    table.iter().find(|(w, _)| *w == word).map(|(_, d)| *d)
}

/// Every reserved word, for validating new names.
pub fn is_keyword(word: &str) -> bool {
    DECLARATIONS.iter().chain(KEYWORDS).any(|(k, _)| *k == word)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(table: &[(&str, &str)]) -> Vec<String> {
        let mut v: Vec<String> = table.iter().map(|(n, _)| n.to_string()).collect();
        v.sort();
        v
    }

    fn sorted(list: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = list.iter().map(|n| n.to_string()).collect();
        v.sort();
        v
    }

    #[test]
    fn every_word_the_checker_accepts_is_documented() {
        assert_eq!(names(TYPES), sorted(crate::check::TYPES));
        assert_eq!(names(EXTRACTORS), sorted(crate::check::EXTRACTORS));
        assert_eq!(names(BACKEND_FIELDS), sorted(crate::check::BACKEND_FIELDS));
        assert_eq!(names(ACTION_FIELDS), sorted(crate::check::ACTION_FIELDS));
        assert_eq!(names(EXPECT_FIELDS), sorted(crate::check::EXPECT_FIELDS));
        let efforts: Vec<&str> = crate::policy::Effort::ALL.iter().map(|(n, _)| *n).collect();
        assert_eq!(value_words("reasoning_effort"), efforts.as_slice());
        for (extractor, _) in EXTRACTORS {
            for arg in crate::check::named_args(extractor) {
                assert!(
                    doc(EXTRACTOR_ARGS, arg).is_some(),
                    "`{arg}` is undocumented"
                );
            }
        }
    }

    #[test]
    fn keywords_match_the_lexer() {
        use crate::syntax::lexer::{lex, Tok};
        for (word, _) in DECLARATIONS.iter().chain(KEYWORDS) {
            let lexed = lex(word, crate::syntax::FileId(0));
            assert!(
                !matches!(lexed.tokens[0].1, Tok::Ident(_)),
                "`{word}` is not a keyword of the lexer"
            );
        }
        for word in ["signals", "system_prompt", "priority_", "whence"] {
            assert!(!is_keyword(word));
        }
    }
}
