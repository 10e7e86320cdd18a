//! The lenient JSON reader (src/domain/lenient_json.rs).
//!
//! Invariants: it never panics; whatever serde_json accepts it accepts with the same value,
//! and where serde_json refuses a body without raw control characters it refuses it at the
//! same place; an error's line and column lie inside the text; raw control characters in
//! strings are kept as they were; the tree uploads are read from (`parse_tree`) accepts and
//! refuses the same texts, with the same value and the same error.
#![no_main]

use credentialconnect::domain::lenient_json;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let strict =
        serde_json::from_slice::<Value>(data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data));
    let lenient = lenient_json::parse(data);
    let tree = lenient_json::parse_tree(data).map(|tree| tree.to_value());
    assert_eq!(tree, lenient, "the tree and the Value disagree");
    match (&strict, &lenient) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "lenient and strict disagree"),
        (Ok(_), Err(e)) => panic!("strict JSON refused: {e}"),
        (Err(_), Ok(value)) => {
            // Only raw control characters may have made the difference: the same text with
            // them escaped must be strict JSON with the same value.
            let escaped = escape_raw_controls(data);
            let again = serde_json::from_slice::<Value>(&escaped)
                .expect("accepted only because of raw control characters");
            assert_eq!(&again, value);
        }
        (Err(s), Err(e)) => {
            let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
            assert!(e.line >= 1 && e.line <= lines.len(), "{e} outside the text");
            assert!(
                e.column <= lines[e.line - 1].len() + 1,
                "{e} outside its line"
            );
            if !data
                .iter()
                .any(|&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | b' '))
            {
                if !s.to_string().contains("control character") {
                    assert_eq!((e.line, e.column), (s.line(), s.column()), "{e} vs {s}");
                }
            }
        }
    }
});

/// An independent rewrite: each raw control character inside a string that is not the
/// character right after a backslash becomes `\u00XX`.
fn escape_raw_controls(data: &[u8]) -> Vec<u8> {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let mut out = Vec::with_capacity(data.len());
    let mut in_string = false;
    let mut i = 0;
    while i < data.len() {
        let b = data[i];
        if in_string && b == b'\\' && i + 1 < data.len() {
            out.push(b);
            out.push(data[i + 1]);
            i += 2;
            continue;
        }
        if b == b'"' {
            in_string = !in_string;
        }
        if in_string && b < 0x20 {
            out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
        } else {
            out.push(b);
        }
        i += 1;
    }
    out
}
