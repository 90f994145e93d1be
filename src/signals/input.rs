//! Step one: what signals read from a request, independent of how it arrived (HTTP, a file
//! given to `routerc eval`, a benchmark), and the text each signal reads.

use std::sync::OnceLock;

use crate::policy::TextSource;

/// One message of the conversation: its role and the text of its content.
#[derive(Clone, Copy, Debug)]
pub struct Turn<'a> {
    pub role: &'a str,
    pub text: &'a str,
}

/// The parts of a chat request that signals read.
#[derive(Clone, Debug, Default)]
pub struct Input<'a> {
    /// The `model` the client asked for.
    pub model: &'a str,
    pub messages: Vec<Turn<'a>>,
    /// Request headers, names in lowercase.
    pub headers: Vec<(&'a str, &'a str)>,
    /// The caller's user and role as the gateway authenticated them (an API key or a header
    /// of a trusted proxy), for `identity.user` / `identity.role`; never a client's header.
    pub user: Option<&'a str>,
    pub role: Option<&'a str>,
    /// How many tools the request defines.
    pub tools: usize,
    /// How many image parts the messages hold.
    pub images: usize,
    /// The string entries of the request's `metadata`.
    pub metadata: Vec<(&'a str, &'a str)>,
}

impl<'a> Input<'a> {
    /// A header's value; `name` in lowercase. The first of repeated headers wins.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }

    /// How many messages `length.messages` counts: the system (and developer) messages for
    /// `text: system`, all of them otherwise.
    pub fn message_count(&self, source: TextSource) -> usize {
        match source {
            TextSource::System => self.messages.iter().filter(|m| is_system(m.role)).count(),
            TextSource::LastUser | TextSource::Conversation => self.messages.len(),
        }
    }

    /// The text a signal reads: the last user message, every message joined by newlines, or
    /// the system (and developer) messages joined by newlines. Empty when there is none.
    pub fn text_of(&self, source: TextSource) -> String {
        let m = &self.messages;
        match source {
            TextSource::LastUser => m
                .iter()
                .rev()
                .find(|m| m.role == "user")
                .map(|m| m.text.to_owned())
                .unwrap_or_default(),
            TextSource::Conversation => join(m.iter().map(|m| m.text)),
            TextSource::System => join(m.iter().filter(|m| is_system(m.role)).map(|m| m.text)),
        }
    }
}

fn is_system(role: &str) -> bool {
    role == "system" || role == "developer"
}

fn join<'t>(texts: impl Iterator<Item = &'t str>) -> String {
    texts.collect::<Vec<_>>().join("\n")
}

/// The texts of one request, each built at most once, on first use, and shareable between
/// the threads that compute signals in parallel.
#[derive(Default)]
pub struct Texts {
    text: [OnceLock<String>; 3],
    lowered: [OnceLock<String>; 3],
}

impl Texts {
    pub fn get(&self, input: &Input<'_>, source: TextSource) -> &str {
        self.text[index(source)].get_or_init(|| input.text_of(source))
    }

    /// The text in lowercase (Unicode), for case-insensitive keywords.
    pub fn lowered(&self, input: &Input<'_>, source: TextSource) -> &str {
        self.lowered[index(source)].get_or_init(|| self.get(input, source).to_lowercase())
    }
}

fn index(source: TextSource) -> usize {
    match source {
        TextSource::LastUser => 0,
        TextSource::Conversation => 1,
        TextSource::System => 2,
    }
}
