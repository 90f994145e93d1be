//! Labelled data files, read the same way for training and for evaluation.
//!
//! Two kinds of examples:
//! - a text with one label (sequence classification), from
//!   - JSON Lines: one object per line with `text` (or `prompt`, `question`) and `label` (or
//!     `category`);
//!   - JSON: an array of such objects, or a knowledge base
//!     `{"labels": {NAME: {"exemplars": [TEXT, …]}, …}}` as vLLM Semantic Router ships them;
//!   - CSV with a header row naming the text and label columns (quoted fields as RFC 4180);
//! - a text with entity spans (token classification): JSON Lines or a JSON array of
//!   `{"text": …, "entities": [{"start": 0, "end": 4, "label": "PERSON"}, …]}`, where `start`
//!   and `end` count characters (not bytes), end exclusive.
//!
//! Spans are converted to byte offsets on reading, since the tokenizer reports byte offsets.
//! This module knows nothing about models.

use std::path::Path;

use serde_json::{Map, Value};

use crate::ModelError;

/// One text and its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelledText {
    pub text: String,
    pub label: String,
}

/// One entity in a text: a byte range and its type (without `B-`/`I-`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub label: String,
}

/// One text and its entities, in order of position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpannedText {
    pub text: String,
    pub entities: Vec<Span>,
}

const TEXT_FIELDS: [&str; 3] = ["text", "prompt", "question"];
const LABEL_FIELDS: [&str; 2] = ["label", "category"];

fn data_error(path: &Path, message: impl Into<String>) -> ModelError {
    ModelError::Data {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

fn read(path: &Path) -> Result<String, ModelError> {
    std::fs::read_to_string(path).map_err(|error| ModelError::Read {
        path: path.to_path_buf(),
        message: error.to_string().to_lowercase(),
    })
}

fn is_csv(path: &Path) -> bool {
    path.extension()
        .and_then(|ext| ext.to_str())
        .is_some_and(|ext| ext.eq_ignore_ascii_case("csv"))
}

/// The JSON objects of a JSON array or a JSON Lines file, with their record numbers.
/// A JSON object with its record (or line) number.
type Record = (usize, Map<String, Value>);

fn records(path: &Path, text: &str) -> Result<Vec<Record>, ModelError> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') || (trimmed.starts_with('{') && !text.trim().contains('\n')) {
        // One JSON document: an array of records (or a single object, handled by the caller).
        let value: Value = serde_json::from_str(text)
            .map_err(|error| data_error(path, format!("invalid JSON: {error}")))?;
        return match value {
            Value::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(index, item)| match item {
                    Value::Object(map) => Ok((index + 1, map)),
                    _ => Err(data_error(
                        path,
                        format!("record {} is not an object", index + 1),
                    )),
                })
                .collect(),
            Value::Object(map) => Ok(vec![(1, map)]),
            _ => Err(data_error(path, "expected an array of objects")),
        };
    }
    if trimmed.starts_with('{') {
        // A pretty-printed single document (a knowledge base) or JSON Lines.
        if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) {
            return Ok(vec![(1, map)]);
        }
    }
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(map)) => Ok((index + 1, map)),
            Ok(_) => Err(data_error(
                path,
                format!("line {} is not an object", index + 1),
            )),
            Err(error) => Err(data_error(
                path,
                format!("line {} is not valid JSON: {error}", index + 1),
            )),
        })
        .collect()
}

fn string_field(map: &Map<String, Value>, names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|name| map.get(*name).and_then(Value::as_str).map(str::to_string))
}

/// Reads texts with one label each (see the module documentation for the formats).
pub fn read_labelled(path: &Path) -> Result<Vec<LabelledText>, ModelError> {
    let text = read(path)?;
    if is_csv(path) {
        return read_csv(path, &text);
    }
    let records = records(path, &text)?;
    if let [(_, map)] = records.as_slice() {
        if let Some(Value::Object(labels)) = map.get("labels") {
            return read_knowledge_base(path, labels);
        }
    }
    let examples = records
        .into_iter()
        .map(|(number, map)| {
            let text = string_field(&map, &TEXT_FIELDS)
                .ok_or_else(|| data_error(path, format!("record {number} has no `text` string")))?;
            let label = string_field(&map, &LABEL_FIELDS).ok_or_else(|| {
                data_error(path, format!("record {number} has no `label` string"))
            })?;
            Ok(LabelledText { text, label })
        })
        .collect::<Result<Vec<_>, ModelError>>()?;
    if examples.is_empty() {
        return Err(data_error(path, "there are no examples"));
    }
    Ok(examples)
}

fn read_knowledge_base(
    path: &Path,
    labels: &Map<String, Value>,
) -> Result<Vec<LabelledText>, ModelError> {
    let mut examples = Vec::new();
    for (label, entry) in labels {
        let exemplars = entry
            .get("exemplars")
            .and_then(Value::as_array)
            .ok_or_else(|| data_error(path, format!("label `{label}` has no `exemplars` list")))?;
        for exemplar in exemplars {
            let text = exemplar.as_str().ok_or_else(|| {
                data_error(path, format!("an exemplar of `{label}` is not a string"))
            })?;
            examples.push(LabelledText {
                text: text.to_string(),
                label: label.clone(),
            });
        }
    }
    if examples.is_empty() {
        return Err(data_error(path, "there are no exemplars"));
    }
    Ok(examples)
}

fn read_csv(path: &Path, text: &str) -> Result<Vec<LabelledText>, ModelError> {
    let rows = parse_csv(text).map_err(|message| data_error(path, message))?;
    let mut rows = rows.into_iter();
    let header = rows
        .next()
        .ok_or_else(|| data_error(path, "the file is empty"))?;
    let column = |names: &[&str]| {
        names.iter().find_map(|name| {
            header
                .iter()
                .position(|column| column.trim().eq_ignore_ascii_case(name))
        })
    };
    let text_column =
        column(&TEXT_FIELDS).ok_or_else(|| data_error(path, "the header has no `text` column"))?;
    let label_column = column(&LABEL_FIELDS)
        .ok_or_else(|| data_error(path, "the header has no `label` column"))?;
    let examples: Vec<LabelledText> = rows
        .enumerate()
        .filter(|(_, row)| !(row.len() == 1 && row[0].is_empty()))
        .map(
            |(index, row)| match (row.get(text_column), row.get(label_column)) {
                (Some(text), Some(label)) => Ok(LabelledText {
                    text: text.clone(),
                    label: label.clone(),
                }),
                _ => Err(data_error(
                    path,
                    format!("row {} has fewer columns than the header", index + 2),
                )),
            },
        )
        .collect::<Result<_, _>>()?;
    if examples.is_empty() {
        return Err(data_error(path, "there are no examples"));
    }
    Ok(examples)
}

/// Splits CSV text into rows of fields: commas separate, double quotes enclose fields that
/// hold commas, quotes or line breaks, and `""` inside quotes is one quote.
fn parse_csv(text: &str) -> Result<Vec<Vec<String>>, String> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            ',' => row.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            _ => field.push(c),
        }
    }
    if quoted {
        return Err("a quoted field is not closed".to_string());
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    Ok(rows)
}

/// Reads texts with entity spans (character offsets in the file, byte offsets in the result).
pub fn read_spanned(path: &Path) -> Result<Vec<SpannedText>, ModelError> {
    let text = read(path)?;
    let examples = records(path, &text)?
        .into_iter()
        .map(|(number, map)| {
            let text = string_field(&map, &TEXT_FIELDS).ok_or_else(|| {
                data_error(path, format!("record {number} has no `text` string"))
            })?;
            let entities = map
                .get("entities")
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    data_error(path, format!("record {number} has no `entities` list"))
                })?;
            let bytes: Vec<usize> = text
                .char_indices()
                .map(|(byte, _)| byte)
                .chain([text.len()])
                .collect();
            let mut spans = entities
                .iter()
                .map(|entity| {
                    let field = |name: &str| entity.get(name).and_then(Value::as_u64);
                    let (Some(start), Some(end), Some(label)) = (
                        field("start"),
                        field("end"),
                        entity.get("label").and_then(Value::as_str),
                    ) else {
                        return Err(data_error(
                            path,
                            format!("record {number}: an entity needs `start`, `end` and `label`"),
                        ));
                    };
                    let (start, end) = (start as usize, end as usize);
                    match (bytes.get(start), bytes.get(end)) {
                        (Some(&start), Some(&end)) if start < end => Ok(Span {
                            start,
                            end,
                            label: label.to_string(),
                        }),
                        _ => Err(data_error(
                            path,
                            format!(
                                "record {number}: entity {start}..{end} is outside the text or empty"
                            ),
                        )),
                    }
                })
                .collect::<Result<Vec<_>, _>>()?;
            spans.sort();
            Ok(SpannedText {
                text,
                entities: spans,
            })
        })
        .collect::<Result<Vec<_>, ModelError>>()?;
    if examples.is_empty() {
        return Err(data_error(path, "there are no examples"));
    }
    Ok(examples)
}

/// How labels from different sources are matched: case and the separators ` `, `-`, `_` are
/// ignored, so a knowledge base's `computer science` is a model's `computer_science`.
pub fn normalise_label(label: &str) -> String {
    label
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c == ' ' || c == '-' { '_' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_may_be_quoted() {
        let rows = parse_csv("text,label\n\"a, \"\"b\"\"\nc\",x\r\nplain,y\n").unwrap();
        assert_eq!(
            rows,
            vec![
                vec!["text".to_string(), "label".to_string()],
                vec!["a, \"b\"\nc".to_string(), "x".to_string()],
                vec!["plain".to_string(), "y".to_string()],
            ]
        );
    }

    #[test]
    fn labels_match_across_separators_and_case() {
        assert_eq!(normalise_label("Computer Science"), "computer_science");
        assert_eq!(normalise_label("computer-science"), "computer_science");
    }
}
