//! `keyword(…)`: many keywords found in one pass over the text (Aho–Corasick), with the
//! keywords that matched kept for the decision trace.
//!
//! Modes: `word` (case-insensitive, on word boundaries), `substring` (case-insensitive,
//! anywhere), `exact` (case-sensitive, on word boundaries). Case-insensitive modes compare
//! the Unicode lowercase of the text and of the keywords. A word boundary is checked only on
//! a side where the keyword itself begins or ends with a word character (a letter, a digit
//! or `_`), so `"tl;dr"` and `"c++"` behave as written.

use aho_corasick::{AhoCorasick, MatchKind};

use crate::policy::KeywordMode;

/// The keywords of one signal, compiled once per policy.
pub struct KeywordMatcher {
    automaton: AhoCorasick,
    /// As the policy wrote them, for the trace.
    keywords: Vec<String>,
    /// Per keyword: check the character before / after a match.
    bounded: Vec<(bool, bool)>,
    mode: KeywordMode,
}

impl KeywordMatcher {
    pub fn new(keywords: &[String], mode: KeywordMode) -> Result<KeywordMatcher, String> {
        let patterns: Vec<String> = keywords
            .iter()
            .map(|k| match mode {
                KeywordMode::Exact => k.clone(),
                KeywordMode::Word | KeywordMode::Substring => k.to_lowercase(),
            })
            .collect();
        let bounded = patterns
            .iter()
            .map(|p| match mode {
                KeywordMode::Substring => (false, false),
                KeywordMode::Word | KeywordMode::Exact => (
                    p.chars().next().is_some_and(is_word),
                    p.chars().next_back().is_some_and(is_word),
                ),
            })
            .collect();
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .map_err(|e| format!("cannot compile the keywords: {e}"))?;
        Ok(KeywordMatcher {
            automaton,
            keywords: keywords.to_vec(),
            bounded,
            mode,
        })
    }

    pub fn mode(&self) -> KeywordMode {
        self.mode
    }

    /// Whether the matcher reads the lowercase text (`word`, `substring`) or the text as
    /// written (`exact`).
    pub fn wants_lowercase(&self) -> bool {
        self.mode != KeywordMode::Exact
    }

    /// The keywords (as written in the policy) found in `text`, each once, in the policy's
    /// order. `text` is lowercase when [`KeywordMatcher::wants_lowercase`].
    pub fn matches(&self, text: &str) -> Vec<&str> {
        let mut found = vec![false; self.keywords.len()];
        // Overlapping matches, so that a keyword failing its boundary check at one place
        // (`titan` in "titanium") is still found at the next ("titanium and titan").
        for m in self.automaton.find_overlapping_iter(text) {
            let k = m.pattern().as_usize();
            if found[k] {
                continue;
            }
            let (before, after) = self.bounded[k];
            let before_ok = !before || !text[..m.start()].chars().next_back().is_some_and(is_word);
            let after_ok = !after || !text[m.end()..].chars().next().is_some_and(is_word);
            if before_ok && after_ok {
                found[k] = true;
            }
        }
        self.keywords
            .iter()
            .zip(found)
            .filter(|(_, f)| *f)
            .map(|(k, _)| k.as_str())
            .collect()
    }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(keywords: &[&str], mode: KeywordMode, text: &str) -> Vec<String> {
        let k: Vec<String> = keywords.iter().map(|s| s.to_string()).collect();
        let m = KeywordMatcher::new(&k, mode).expect("keywords compile");
        let text = if m.wants_lowercase() {
            text.to_lowercase()
        } else {
            text.to_string()
        };
        m.matches(&text).into_iter().map(String::from).collect()
    }

    #[test]
    fn words_respect_boundaries() {
        let w = KeywordMode::Word;
        assert_eq!(found(&["titan"], w, "about Titan's launch"), ["titan"]);
        assert!(found(&["titan"], w, "made of titanium").is_empty());
        assert_eq!(found(&["titan"], w, "titanium and titan"), ["titan"]);
        assert_eq!(
            found(&["Project Titan"], w, "PROJECT TITAN"),
            ["Project Titan"]
        );
        assert!(found(&["titan"], w, "subtitan").is_empty());
        assert_eq!(found(&["tl;dr"], w, "x-tl;dr"), ["tl;dr"]);
        assert_eq!(found(&["titan"], w, "é titan é"), ["titan"]);
        assert!(found(&["titan"], w, "étitan").is_empty());
        assert_eq!(found(&["über"], w, "ÜBER alles"), ["über"]);
    }

    #[test]
    fn many_keywords_in_one_pass_report_each_match_once() {
        let k = ["refund", "invoice", "charged twice", "card"];
        assert_eq!(
            found(&k, KeywordMode::Word, "Card charged twice; refund? REFUND!"),
            ["refund", "charged twice", "card"]
        );
    }

    #[test]
    fn modes() {
        assert_eq!(
            found(&["select "], KeywordMode::Substring, "SELECT * from t"),
            ["select "]
        );
        assert_eq!(
            found(&["drop"], KeywordMode::Substring, "raindrops"),
            ["drop"]
        );
        assert!(found(&["CONFIDENTIAL"], KeywordMode::Exact, "confidential").is_empty());
        assert_eq!(
            found(&["CONFIDENTIAL"], KeywordMode::Exact, "CONFIDENTIAL memo"),
            ["CONFIDENTIAL"]
        );
        assert!(found(&["CONFIDENTIAL"], KeywordMode::Exact, "CONFIDENTIALITY").is_empty());
    }
}
