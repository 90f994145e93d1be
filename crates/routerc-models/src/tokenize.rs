//! Text to model input: tokenization with our truncation policy, and padding into batches.
//!
//! tokenizer.json may carry its own padding and truncation settings (all-MiniLM-L6-v2 ships
//! fixed padding to 128 tokens). They are switched off when the file is loaded: the runtime
//! decides both, so the ids a text produces never depend on which copy of tokenizer.json a
//! directory holds, and a batch is padded only to its longest member.
//!
//! Truncation keeps the special tokens the model expects ([CLS] … [SEP]) and cuts the text's
//! own tokens to fit, by the chosen [`Truncation`] policy.
//!
//! This module does not run the network and does not know which architecture it feeds.

use std::path::Path;

use candle_core::{Device, Tensor};
use tokenizers::{Encoding, PostProcessor, TruncationDirection};

use crate::ModelError;

/// Which tokens to keep when a text is longer than the model accepts.
///
/// The budget is the maximum length minus the special tokens the model adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Truncation {
    /// Keep the beginning (what transformers does by default).
    #[default]
    Head,
    /// Keep the end: for inputs whose latest part matters most, such as a chat's last turn.
    Tail,
    /// Keep the first `head` tokens and fill the rest of the budget from the end. Long
    /// documents often state their topic at the start and their request at the end; when
    /// `head` is at least the budget this is the same as [`Truncation::Head`].
    HeadAndTail { head: usize },
}

/// One text as the model sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenizedText {
    pub ids: Vec<u32>,
    pub type_ids: Vec<u32>,
    /// The token strings, for display.
    pub tokens: Vec<String>,
    /// Byte ranges into the original text; special tokens have an empty range.
    pub offsets: Vec<(usize, usize)>,
    /// Character ranges into the original text, for reporting spans outside Rust.
    pub char_offsets: Vec<(usize, usize)>,
    /// Whether each token was added by the tokenizer ([CLS], [SEP]) rather than read from text.
    pub special: Vec<bool>,
    /// How many of the text's tokens truncation removed.
    pub dropped: usize,
}

impl TokenizedText {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// Texts padded to the longest one, as `(batch, seq)` tensors.
#[derive(Debug)]
pub struct Batch {
    pub input_ids: Tensor,
    pub type_ids: Tensor,
    /// 1 for a real token, 0 for padding.
    pub attention_mask: Tensor,
    /// The unpadded length of each text.
    pub lengths: Vec<usize>,
}

/// A tokenizer.json with our truncation and padding.
#[derive(Debug, Clone)]
pub struct TextTokenizer {
    inner: tokenizers::Tokenizer,
    max_length: usize,
    truncation: Truncation,
    special_tokens: usize,
    pad_id: u32,
}

impl TextTokenizer {
    /// Loads `path`, discarding its own padding and truncation settings.
    pub fn from_file(
        path: &Path,
        max_length: usize,
        truncation: Truncation,
        pad_id: u32,
    ) -> Result<Self, ModelError> {
        let mut inner =
            tokenizers::Tokenizer::from_file(path).map_err(|error| ModelError::Tokenizer {
                path: path.to_path_buf(),
                message: error.to_string(),
            })?;
        inner.with_padding(None);
        inner
            .with_truncation(None)
            .map_err(|error| ModelError::Tokenizer {
                path: path.to_path_buf(),
                message: error.to_string(),
            })?;
        let special_tokens = inner
            .get_post_processor()
            .map_or(0, |processor| processor.added_tokens(false));
        if max_length <= special_tokens {
            return Err(ModelError::InvalidOption {
                option: "max_length".to_string(),
                message: format!(
                    "{max_length} leaves no room for text after the model's {special_tokens} special tokens"
                ),
            });
        }
        Ok(Self {
            inner,
            max_length,
            truncation,
            special_tokens,
            pad_id,
        })
    }

    /// The longest input, special tokens included.
    pub fn max_length(&self) -> usize {
        self.max_length
    }

    pub fn truncation(&self) -> Truncation {
        self.truncation
    }

    /// Tokenizes one text, truncating it by the policy and adding the special tokens.
    pub fn tokenize(&self, text: &str) -> Result<TokenizedText, ModelError> {
        let failed = |error: tokenizers::Error| ModelError::Tokenize {
            text: shorten(text),
            message: error.to_string(),
        };
        let content = self.inner.encode(text, false).map_err(failed)?;
        let budget = self.max_length - self.special_tokens;
        let dropped = content.len().saturating_sub(budget);
        let content = if dropped == 0 {
            content
        } else {
            truncate(content, budget, self.truncation)
        };
        let encoding = self
            .inner
            .post_process(content, None, true)
            .map_err(failed)?;
        let char_offsets = char_offsets(text, encoding.get_offsets());
        Ok(TokenizedText {
            ids: encoding.get_ids().to_vec(),
            type_ids: encoding.get_type_ids().to_vec(),
            tokens: encoding.get_tokens().to_vec(),
            offsets: encoding.get_offsets().to_vec(),
            char_offsets,
            special: encoding
                .get_special_tokens_mask()
                .iter()
                .map(|&flag| flag == 1)
                .collect(),
            dropped,
        })
    }

    /// Pads tokenized texts to the longest one.
    pub fn batch(&self, texts: &[TokenizedText], device: &Device) -> Result<Batch, ModelError> {
        let width = texts.iter().map(TokenizedText::len).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(texts.len() * width);
        let mut type_ids = Vec::with_capacity(texts.len() * width);
        let mut mask = Vec::with_capacity(texts.len() * width);
        for text in texts {
            let padding = width - text.len();
            ids.extend(
                text.ids
                    .iter()
                    .copied()
                    .chain(std::iter::repeat_n(self.pad_id, padding)),
            );
            type_ids.extend(
                text.type_ids
                    .iter()
                    .copied()
                    .chain(std::iter::repeat_n(0, padding)),
            );
            mask.extend(
                std::iter::repeat_n(1u32, text.len()).chain(std::iter::repeat_n(0, padding)),
            );
        }
        let shape = (texts.len(), width);
        let tensor =
            |data: Vec<u32>| Tensor::from_vec(data, shape, device).map_err(ModelError::inference);
        Ok(Batch {
            input_ids: tensor(ids)?,
            type_ids: tensor(type_ids)?,
            attention_mask: tensor(mask)?,
            lengths: texts.iter().map(TokenizedText::len).collect(),
        })
    }
}

/// Cuts the text's own tokens (no special tokens yet) down to `budget`.
fn truncate(mut content: Encoding, budget: usize, policy: Truncation) -> Encoding {
    let keep = |mut encoding: Encoding, count: usize, direction| {
        encoding.truncate(count, 0, direction);
        // The cut-off parts are kept as "overflowing" encodings, which we do not use.
        encoding.take_overflowing();
        encoding
    };
    match policy {
        Truncation::Head => keep(content, budget, TruncationDirection::Right),
        Truncation::Tail => keep(content, budget, TruncationDirection::Left),
        Truncation::HeadAndTail { head } if head >= budget => {
            keep(content, budget, TruncationDirection::Right)
        }
        Truncation::HeadAndTail { head: 0 } => keep(content, budget, TruncationDirection::Left),
        Truncation::HeadAndTail { head } => {
            let tail = keep(content.clone(), budget - head, TruncationDirection::Left);
            content = keep(content, head, TruncationDirection::Right);
            // Offsets stay relative to the original text, so spans remain correct.
            content.merge_with(tail, false);
            content
        }
    }
}

/// Converts byte ranges to character ranges.
fn char_offsets(text: &str, offsets: &[(usize, usize)]) -> Vec<(usize, usize)> {
    // chars_before[b] is the number of characters before byte b, for every char boundary.
    let mut chars_before = vec![0usize; text.len() + 1];
    let mut count = 0;
    let mut last = 0;
    for (byte, _) in text.char_indices() {
        for slot in &mut chars_before[last..=byte] {
            *slot = count;
        }
        count += 1;
        last = byte + 1;
    }
    for slot in &mut chars_before[last..] {
        *slot = count;
    }
    let at = |byte: usize| chars_before.get(byte).copied().unwrap_or(count);
    offsets
        .iter()
        .map(|&(start, end)| (at(start), at(end)))
        .collect()
}

/// Long texts are cut in messages.
fn shorten(text: &str) -> String {
    const LIMIT: usize = 60;
    if text.chars().count() <= LIMIT {
        text.to_string()
    } else {
        let head: String = text.chars().take(LIMIT).collect();
        format!("{head}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn char_offsets_count_characters_not_bytes() {
        let text = "é1 数学";
        // "é" is 2 bytes, "1" 1, " " 1, "数" 3, "学" 3.
        let offsets = [(0, 2), (2, 3), (4, 7), (7, 10), (0, 0)];
        assert_eq!(
            char_offsets(text, &offsets),
            vec![(0, 1), (1, 2), (3, 4), (4, 5), (0, 0)]
        );
    }
}
