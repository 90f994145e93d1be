//! Splitting JSON text that is already known to be valid into the exact text of its parts:
//! an object's top-level fields, an array's elements. The gateway forwards the parts it does
//! not change as the client wrote them (number spellings, key order, spacing inside values).
//!
//! The input must have been accepted by `serde_json` first; on anything else the functions
//! return `None` rather than panicking, but they do not report where the text is wrong.

/// The fields of an object, in order: each key decoded, each value as its exact text.
pub fn object_fields(text: &str) -> Option<Vec<(String, String)>> {
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
        let key_end = value_end(b, i)?;
        let key: String = serde_json::from_str(text.get(i..key_end)?).ok()?;
        i = skip_ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(b, i + 1);
        let end = value_end(b, i)?;
        fields.push((key, text.get(i..end)?.to_string()));
        i = skip_ws(b, end);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => return Some(fields),
            _ => return None,
        }
    }
}

/// The elements of an array, each as its exact text.
pub fn array_elements(text: &str) -> Option<Vec<String>> {
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
        items.push(text.get(i..end)?.to_string());
        i = skip_ws(b, end);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b']') => return Some(items),
            _ => return None,
        }
    }
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
        let f = object_fields(r#" { "a" : 1.50 , "b\"c":{"x":[1,"]}"]}, "d":"e\\"  ,"n":null} "#)
            .unwrap();
        let got: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            got,
            [
                ("a", "1.50"),
                ("b\"c", r#"{"x":[1,"]}"]}"#),
                ("d", r#""e\\""#),
                ("n", "null")
            ]
        );
        assert_eq!(object_fields("{}").unwrap(), vec![]);
        assert_eq!(
            array_elements(r#"[ {"a":[]} ,2, "x" ]"#).unwrap(),
            [r#"{"a":[]}"#, "2", r#""x""#]
        );
        assert_eq!(array_elements("[]").unwrap(), Vec::<String>::new());
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
            assert!(
                object_fields(t).is_none() || array_elements(t).is_none(),
                "{t}"
            );
            let _ = array_elements(t);
        }
    }
}
