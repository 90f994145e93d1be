//! Splitting JSON text that is already known to be valid into the exact text of its parts:
//! an object's top-level fields, an array's elements, as slices of the text; and string
//! literals decoded (borrowed when they hold no escape). The gateway forwards the parts it
//! does not change as the client wrote them (number spellings, key order, spacing inside
//! values) and decodes only the values it reads, without a tree of the whole body.
//!
//! The input must have been accepted by `serde_json` first; on anything else the functions
//! return `None` rather than panicking, but they do not report where the text is wrong.

use std::borrow::Cow;

/// The fields of an object, in order: each key as its JSON text (quotes and escapes
/// included, see [`string`]), each value as its exact text.
pub fn object_spans(text: &str) -> Option<Vec<(&str, &str)>> {
    let b = text.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i = skip_ws(b, i + 1);
    let mut fields = Vec::new();
    if b.get(i) == Some(&b'}') {
        return Some(fields);
    }
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let key_end = value_end(b, i)?;
        let key = text.get(i..key_end)?;
        i = skip_ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(b, i + 1);
        let end = value_end(b, i)?;
        fields.push((key, text.get(i..end)?));
        i = skip_ws(b, end);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => return Some(fields),
            _ => return None,
        }
    }
}

/// The elements of an array, each as its exact text.
pub fn array_spans(text: &str) -> Option<Vec<&str>> {
    let b = text.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'[') {
        return None;
    }
    i = skip_ws(b, i + 1);
    let mut items = Vec::new();
    if b.get(i) == Some(&b']') {
        return Some(items);
    }
    loop {
        let end = value_end(b, i)?;
        items.push(text.get(i..end)?);
        i = skip_ws(b, end);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b']') => return Some(items),
            _ => return None,
        }
    }
}

/// The value of a JSON string literal (`"…"`, as [`object_spans`] gives keys and values);
/// `None` for any other value. Borrowed from the text when it has no escapes.
pub fn string(literal: &str) -> Option<Cow<'_, str>> {
    let inner = literal.strip_prefix('"')?.strip_suffix('"')?;
    if !inner.contains('\\') {
        return Some(Cow::Borrowed(inner));
    }
    serde_json::from_str::<String>(literal).ok().map(Cow::Owned)
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// Where the value starting at `i` ends (exclusive). Iterative, so nesting depth costs no
/// stack.
fn value_end(b: &[u8], start: usize) -> Option<usize> {
    let mut i = start;
    let mut depth = 0usize;
    loop {
        match *b.get(i)? {
            b'"' => {
                i += 1;
                loop {
                    match *b.get(i)? {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
                i += 1;
            }
            b'{' | b'[' => {
                depth += 1;
                i += 1;
            }
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                i += 1;
            }
            _ if depth == 0 => {
                // A scalar: up to the next delimiter.
                while !matches!(
                    b.get(i),
                    None | Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
                ) {
                    i += 1;
                }
                return Some(i);
            }
            _ => i += 1,
        }
        if depth == 0 {
            return Some(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_objects_and_arrays_verbatim() {
        let f = object_spans(r#" { "a" : 1.50 , "b\"c":{"x":[1,"]}"]}, "d":"e\\"  ,"n":null} "#)
            .unwrap();
        let got: Vec<(String, &str)> = f
            .iter()
            .map(|(k, v)| (string(k).unwrap().into_owned(), *v))
            .collect();
        let got: Vec<(&str, &str)> = got.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        assert_eq!(
            got,
            [
                ("a", "1.50"),
                ("b\"c", r#"{"x":[1,"]}"]}"#),
                ("d", r#""e\\""#),
                ("n", "null")
            ]
        );
        assert_eq!(object_spans("{}").unwrap(), vec![]);
        assert_eq!(
            array_spans(r#"[ {"a":[]} ,2, "x" ]"#).unwrap(),
            [r#"{"a":[]}"#, "2", r#""x""#]
        );
        assert_eq!(array_spans("[]").unwrap(), Vec::<&str>::new());
    }

    #[test]
    fn strings_decode_with_and_without_escapes() {
        assert_eq!(string(r#""plain""#).as_deref(), Some("plain"));
        assert!(matches!(string(r#""plain""#), Some(Cow::Borrowed(_))));
        assert_eq!(string(r#""a\"b\u00e9""#).as_deref(), Some("a\"bé"));
        assert_eq!(string(r#""""#).as_deref(), Some(""));
        for not_a_string in ["1", "null", "[\"a\"]", "{}", "\""] {
            assert_eq!(string(not_a_string), None, "{not_a_string}");
        }
    }

    #[test]
    fn invalid_text_is_none_not_a_panic() {
        for t in [
            "",
            "{",
            "{\"a\"",
            "{\"a\":",
            "{\"a\":1,",
            "[1,",
            "[\"",
            "{\"a\":}}",
            "x",
        ] {
            assert!(object_spans(t).is_none() || array_spans(t).is_none(), "{t}");
            let _ = array_spans(t);
        }
    }
}
