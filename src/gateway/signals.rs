//! Step two: the signals a policy reads, computed from the request when the engine first
//! needs them (a route that is decided before a signal is reached never pays for it).
//!
//! Computed here: `keyword`, `regex`, `header`, `length.*` and `request.model`. Not yet:
//! classifiers, token classifiers, example similarity, `language`, `identity.*` and the
//! external families of converted configs; they are absent, so every test on them is false
//! (the models are wired in by the signals work, identity by API keys).
//!
//! `length.tokens` is approximated as one token per four characters, rounded up: the usual
//! figure for English with GPT-style tokenizers, and no tokenizer to load.

use axum::http::HeaderMap;
use regex::RegexSet;

use crate::engine::frame::{Frame, SignalSource};
use crate::engine::ir::Program;
use crate::policy::{Extractor, KeywordMode, LengthUnit, TextSource};

use super::identity::Identity;
use super::request::ChatRequest;

/// What to compute for each signal, prepared once per policy (regexes compiled, keywords
/// lowercased) so that a request only matches.
pub struct SignalPlan {
    signals: Vec<Compute>,
}

enum Compute {
    Keyword {
        keywords: Vec<String>,
        mode: KeywordMode,
        text: TextSource,
    },
    Regex {
        set: RegexSet,
        text: TextSource,
    },
    Header(String),
    Length {
        unit: LengthUnit,
        text: TextSource,
    },
    RequestModel,
    /// `identity.user` (true) or `identity.role` (false): the caller the gateway
    /// authenticated (API key or trusted proxy header), never a client's own header.
    Identity {
        user: bool,
    },
    /// Not computed by this gateway yet: absent.
    Absent,
}

impl SignalPlan {
    /// Fails only for a regex that does not compile, which the checker rules out for
    /// sources; a bundle could still carry one.
    pub fn new(program: &Program) -> Result<SignalPlan, String> {
        let mut signals = Vec::with_capacity(program.signals.len());
        for s in &program.signals {
            signals.push(match &s.extractor {
                Extractor::Keyword {
                    keywords,
                    mode,
                    text,
                } => Compute::Keyword {
                    keywords: keywords
                        .iter()
                        .map(|k| match mode {
                            KeywordMode::Exact => k.clone(),
                            KeywordMode::Word | KeywordMode::Substring => k.to_lowercase(),
                        })
                        .collect(),
                    mode: *mode,
                    text: *text,
                },
                Extractor::Regex { patterns, text } => Compute::Regex {
                    set: RegexSet::new(patterns)
                        .map_err(|e| format!("signal `{}`: invalid regex: {e}", s.name))?,
                    text: *text,
                },
                Extractor::Header { name } => Compute::Header(name.to_ascii_lowercase()),
                Extractor::Length { unit, text } => Compute::Length {
                    unit: *unit,
                    text: *text,
                },
                Extractor::RequestModel => Compute::RequestModel,
                Extractor::Identity { field } => Compute::Identity {
                    user: field == "user",
                },
                Extractor::Classifier { .. }
                | Extractor::TokenClassifier { .. }
                | Extractor::Examples { .. }
                | Extractor::Language { .. }
                | Extractor::External { .. } => Compute::Absent,
            });
        }
        Ok(SignalPlan { signals })
    }
}

/// The signals of one request. Texts are built at most once each, on first use.
pub struct RequestSignals<'a> {
    plan: &'a SignalPlan,
    request: &'a ChatRequest,
    headers: &'a HeaderMap,
    identity: Option<&'a Identity>,
    texts: [Option<String>; 3],
    lowered: [Option<String>; 3],
}

impl<'a> RequestSignals<'a> {
    pub fn new(
        plan: &'a SignalPlan,
        request: &'a ChatRequest,
        headers: &'a HeaderMap,
    ) -> RequestSignals<'a> {
        RequestSignals {
            plan,
            request,
            headers,
            identity: None,
            texts: [None, None, None],
            lowered: [None, None, None],
        }
    }

    /// The caller as authenticated by the gateway, for `identity.*` (absent without it).
    pub fn with_identity(mut self, identity: &'a Identity) -> RequestSignals<'a> {
        self.identity = Some(identity);
        self
    }

    fn text(&mut self, source: TextSource) -> &str {
        let i = source as usize;
        let request = self.request;
        self.texts[i].get_or_insert_with(|| text_of(request, source))
    }

    fn lowered(&mut self, source: TextSource) -> &str {
        let i = source as usize;
        if self.lowered[i].is_none() {
            let lower = self.text(source).to_lowercase();
            self.lowered[i] = Some(lower);
        }
        self.lowered[i].as_deref().unwrap_or_default()
    }
}

/// The text a signal reads: the last user message, every message, or the system messages.
pub fn text_of(request: &ChatRequest, source: TextSource) -> String {
    let m = &request.messages;
    match source {
        TextSource::LastUser => m
            .iter()
            .rev()
            .find(|m| m.role == "user")
            .map(|m| m.text.clone())
            .unwrap_or_default(),
        TextSource::Conversation => join(m.iter().map(|m| m.text.as_str())),
        TextSource::System => join(
            m.iter()
                .filter(|m| m.role == "system" || m.role == "developer")
                .map(|m| m.text.as_str()),
        ),
    }
}

fn join<'t>(texts: impl Iterator<Item = &'t str>) -> String {
    texts.collect::<Vec<_>>().join("\n")
}

impl SignalSource for RequestSignals<'_> {
    fn fetch(&mut self, signal: u32, frame: &mut Frame) {
        let plan = self.plan;
        let Some(compute) = plan.signals.get(signal as usize) else {
            frame.set_absent(signal);
            return;
        };
        // A value of the wrong kind for the declared type (a policy that declared a keyword
        // signal as a string, say) leaves the signal absent rather than failing the request.
        let set = match compute {
            Compute::Keyword {
                keywords,
                mode,
                text,
            } => {
                let found = match mode {
                    KeywordMode::Exact => {
                        let t = self.text(*text);
                        keywords.iter().any(|k| contains_word(t, k))
                    }
                    KeywordMode::Word => {
                        let t = self.lowered(*text);
                        keywords.iter().any(|k| contains_word(t, k))
                    }
                    KeywordMode::Substring => {
                        let t = self.lowered(*text);
                        keywords.iter().any(|k| t.contains(k.as_str()))
                    }
                };
                frame.set_bool(signal, found)
            }
            Compute::Regex { set, text } => {
                let found = set.is_match(self.text(*text));
                frame.set_bool(signal, found)
            }
            Compute::Header(name) => match self.headers.get(name.as_str()).map(|v| v.to_str()) {
                Some(Ok(v)) => frame.set_string(signal, v),
                _ => {
                    frame.set_absent(signal);
                    Ok(())
                }
            },
            Compute::Length { unit, text } => {
                let n = match unit {
                    LengthUnit::Chars => self.text(*text).chars().count(),
                    LengthUnit::Tokens => self.text(*text).chars().count().div_ceil(4),
                    LengthUnit::Messages => match text {
                        TextSource::System => self
                            .request
                            .messages
                            .iter()
                            .filter(|m| m.role == "system" || m.role == "developer")
                            .count(),
                        TextSource::LastUser | TextSource::Conversation => {
                            self.request.messages.len()
                        }
                    },
                };
                frame.set_number(signal, n as f64)
            }
            Compute::RequestModel => frame.set_string(signal, &self.request.model),
            Compute::Identity { user } => {
                let field = self.identity.and_then(|i| match user {
                    true => i.user.as_deref(),
                    false => i.role.as_deref(),
                });
                match field {
                    Some(v) => frame.set_string(signal, v),
                    None => {
                        frame.set_absent(signal);
                        Ok(())
                    }
                }
            }
            Compute::Absent => {
                frame.set_absent(signal);
                Ok(())
            }
        };
        if set.is_err() {
            frame.set_absent(signal);
        }
    }
}

/// Whether `needle` occurs in `text` on word boundaries: the characters either side of the
/// match, where the needle itself begins or ends with a word character, are not word
/// characters ("Titan" is in "titan's" but not in "titanium").
pub fn contains_word(text: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    let starts_word = needle.chars().next().is_some_and(is_word);
    let ends_word = needle.chars().next_back().is_some_and(is_word);
    let mut from = 0;
    while let Some(at) = text[from..].find(needle) {
        let start = from + at;
        let end = start + needle.len();
        let before_ok = !starts_word || !text[..start].chars().next_back().is_some_and(is_word);
        let after_ok = !ends_word || !text[end..].chars().next().is_some_and(is_word);
        if before_ok && after_ok {
            return true;
        }
        // Next search starts one character further, so overlapping matches are tried.
        from = start + text[start..].chars().next().map_or(1, char::len_utf8);
    }
    false
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_respect_boundaries() {
        assert!(contains_word("about titan's launch", "titan"));
        assert!(!contains_word("made of titanium", "titan"));
        assert!(contains_word("titanium and titan", "titan"));
        assert!(contains_word("project titan", "project titan"));
        assert!(!contains_word("subtitan", "titan"));
        assert!(contains_word("say tl;dr please", "tl;dr"));
        assert!(contains_word("x-tl;dr", "tl;dr"));
        assert!(contains_word("é titan é", "titan"));
        assert!(!contains_word("étitan", "titan"));
        assert!(!contains_word("anything", ""));
    }
}
