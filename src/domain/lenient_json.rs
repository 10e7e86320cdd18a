//! The lenient JSON reader: strict JSON, except that raw control characters inside strings
//! are tolerated (the partner guide's SkillSync example has a raw line break in a string,
//! and partners copy it). Errors name the line and column of the *original* text.
//!
//! It must not accept anything else that RFC 8259 rejects: no comments, no trailing commas.

use crate::domain::json_tree::{Body, Node};
use serde_json::Value;
use std::fmt;

/// Where and why a body is not JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonSyntaxError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for JsonSyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the body is not valid JSON: {} at line {}, column {}",
            self.message, self.line, self.column
        )
    }
}

impl std::error::Error for JsonSyntaxError {}

/// Parses `bytes` as JSON, tolerating raw control characters inside strings.
pub fn parse(bytes: &[u8]) -> Result<Value, JsonSyntaxError> {
    let bytes = without_bom(bytes);
    // Nearly every body is strict JSON: parse it as such first, and only look for raw control
    // characters (a byte-by-byte pass) when that fails.
    if let Ok(value) = serde_json::from_slice(bytes) {
        return Ok(value);
    }
    parse_tolerating_controls(bytes, |text| serde_json::from_slice(text))
}

/// `parse`, into a tree that borrows the strings of `bytes` (what an upload is read from).
pub fn parse_tree(bytes: &[u8]) -> Result<Node<'_>, JsonSyntaxError> {
    let bytes = without_bom(bytes);
    // Checking the whole body's UTF-8 at once is cheaper than serde_json checking each
    // string of a byte slice; the parse is the same either way.
    let strict = match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(bytes),
    };
    if let Ok(tree) = strict {
        return Ok(tree);
    }
    // The rewritten text is gone when this returns: the tree owns its strings.
    parse_tolerating_controls(bytes, |text| {
        serde_json::from_slice::<Node>(text).map(Node::into_owned)
    })
}

/// `parse_tree`, keeping the body and its tree together.
pub fn parse_body(bytes: Vec<u8>) -> Result<Body, JsonSyntaxError> {
    Body::try_new(bytes, |bytes| parse_tree(bytes))
}

fn without_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Parses `bytes` (not strict JSON) with raw control characters inside strings escaped;
/// an error names the place in `bytes`.
fn parse_tolerating_controls<T>(
    bytes: &[u8],
    parse: impl FnOnce(&[u8]) -> serde_json::Result<T>,
) -> Result<T, JsonSyntaxError> {
    let escaped = escape_controls_in_strings(bytes);
    let text: &[u8] = escaped.as_ref().map_or(bytes, |e| e.text.as_slice());
    parse(text).map_err(|err| {
        let message = describe(&err);
        let (line, column) = match &escaped {
            // Column/line refer to the rewritten text; map them back to the original.
            Some(e) => e.original_position(err.line(), err.column(), bytes),
            None => (err.line(), err.column()),
        };
        JsonSyntaxError {
            line,
            column,
            message,
        }
    })
}

fn describe(err: &serde_json::Error) -> String {
    let full = err.to_string();
    // serde_json appends " at line L column C"; we report the position ourselves.
    let message = match full.rfind(" at line ") {
        Some(i) => full[..i].to_string(),
        None => full,
    };
    if message.contains("recursion limit") {
        "nesting is too deep (at most 128 levels of arrays and objects)".to_string()
    } else {
        message
    }
}

/// The body with raw control characters inside strings replaced by `\u00XX` escapes, and
/// where each replacement happened so positions can be mapped back.
struct Escaped {
    text: Vec<u8>,
    /// Offsets in the original text of each replaced byte (each grew by 5 bytes).
    replaced_at: Vec<usize>,
}

fn escape_controls_in_strings(bytes: &[u8]) -> Option<Escaped> {
    let mut in_string = false;
    let mut escape = false;
    // Bytes still to come of a `\uXXXX` escape's four hex digits.
    let mut hex_left = 0u8;
    let mut out: Option<Escaped> = None;
    for (i, &b) in bytes.iter().enumerate() {
        // A control character right after a backslash, or among a `\u` escape's digits, is
        // an invalid escape, not a raw character to tolerate: it stays as it is, for
        // serde_json to refuse at the same place as in the text as sent.
        let replace = in_string && !escape && hex_left == 0 && b < 0x20;
        if in_string {
            if hex_left > 0 {
                hex_left -= 1;
            } else if escape {
                escape = false;
                if b == b'u' {
                    hex_left = 4;
                }
            } else if b == b'\\' {
                escape = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
        }
        if replace {
            let e = out.get_or_insert_with(|| Escaped {
                text: bytes[..i].to_vec(),
                replaced_at: Vec::new(),
            });
            e.text.extend_from_slice(format!("\\u{b:04x}").as_bytes());
            e.replaced_at.push(i);
        } else if let Some(e) = out.as_mut() {
            e.text.push(b);
        }
    }
    out
}

impl Escaped {
    /// Maps a (line, column) of the rewritten text to the same place in the original.
    fn original_position(&self, line: usize, column: usize, original: &[u8]) -> (usize, usize) {
        if line == 0 {
            return (0, 0);
        }
        // Offset in the rewritten text.
        let mut offset = 0;
        let mut current = 1;
        while current < line && offset < self.text.len() {
            if self.text[offset] == b'\n' {
                current += 1;
            }
            offset += 1;
        }
        // Column 0 is serde_json's "nothing read on this line yet": the line's start.
        let rewritten = (offset + column.saturating_sub(1)).min(self.text.len());
        // Each replacement turned one byte into six (`\u00XX`): undo that growth.
        let mut original_offset = rewritten;
        for (k, &at) in self.replaced_at.iter().enumerate() {
            let start = at + 5 * k;
            if rewritten >= start + 6 {
                original_offset -= 5;
            } else {
                if rewritten >= start {
                    original_offset = at;
                }
                break;
            }
        }
        let (line, original_column) =
            line_and_column(original, original_offset.min(original.len()));
        (line, if column == 0 { 0 } else { original_column })
    }
}

fn line_and_column(text: &[u8], offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    (line, offset - line_start + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_line_break_inside_a_string_is_kept() {
        let v = parse(b"{\"a\": \"one\n   two\"}").expect("tolerated");
        assert_eq!(v["a"], "one\n   two");
    }

    #[test]
    fn tab_and_carriage_return_inside_strings_are_kept() {
        let v = parse(b"[\"a\tb\r\nc\"]").expect("tolerated");
        assert_eq!(v[0], "a\tb\r\nc");
    }

    #[test]
    fn escaped_quote_does_not_end_the_string() {
        let v = parse(b"{\"a\": \"say \\\"hi\n\\\" now\"}").expect("tolerated");
        assert_eq!(v["a"], "say \"hi\n\" now");
    }

    #[test]
    fn trailing_comma_is_rejected_with_its_position() {
        let err = parse(b"{\n  \"a\": 1,\n}").expect_err("strict otherwise");
        assert_eq!((err.line, err.column), (3, 1));
    }

    #[test]
    fn error_after_a_tolerated_line_break_names_the_original_line() {
        let text = b"{\n\"a\": \"x\ny\",\n\"b\": 1 2\n}";
        let err = parse(text).expect_err("bad literal");
        assert_eq!(err.line, 4, "{err}");
    }

    #[test]
    fn a_backslash_before_a_raw_control_character_is_an_invalid_escape() {
        // `\` then a raw line break is no JSON escape; tolerating the raw character must not
        // turn it into a literal backslash followed by "u000a".
        let err = parse(b"{\"a\": \"x\\\ny\"}").expect_err("invalid escape");
        assert!(err.message.contains("escape"), "{err}");
        assert_eq!(err.line, 2, "{err}");
        // An escaped backslash before a raw line break is fine.
        let v = parse(b"[\"x\\\\\ny\"]").expect("escaped backslash, then a raw line break");
        assert_eq!(v[0], "x\\\ny");
    }

    #[test]
    fn an_error_at_the_start_of_a_line_is_placed_as_serde_json_places_it() {
        // Found by fuzzing: serde_json says column 0 for an error before anything on its
        // line was read; a raw tab later in the text must not move that to column 1.
        let text = b"[-\n\"a\tb\"]";
        let strict = serde_json::from_slice::<Value>(text).expect_err("invalid number");
        let err = parse(text).expect_err("invalid number");
        assert_eq!(
            (err.line, err.column),
            (strict.line(), strict.column()),
            "{err}"
        );
        assert_eq!((err.line, err.column), (2, 0));
    }

    #[test]
    fn a_raw_control_character_among_unicode_escape_digits_is_refused_where_serde_json_refuses_it()
    {
        // Found by fuzzing: the digits of `\u` are part of the escape, not string content.
        let text = b"{\"a \\u`\r\r\r\"e";
        let strict = serde_json::from_slice::<Value>(text).expect_err("invalid escape");
        let err = parse(text).expect_err("invalid escape");
        assert!(err.message.contains("escape"), "{err}");
        assert_eq!(
            (err.line, err.column),
            (strict.line(), strict.column()),
            "{err}"
        );
        // A complete escape followed by a raw control character is still tolerated.
        let v = parse(b"[\"\\u00e9\t\"]").expect("tolerated");
        assert_eq!(v[0], "\u{e9}\t");
    }

    #[test]
    fn the_tree_reads_what_the_value_reads_and_fails_where_it_fails() {
        let deep = "[".repeat(200) + &"]".repeat(200);
        for text in [
            &b"{\"a\": \"one\n   two\", \"b\": [1, 2.5, null]}"[..],
            b"\xEF\xBB\xBF{\"a\": \"x\ty\"}",
            b"{\n  \"a\": 1,\n}",
            b"{\n\"a\": \"x\ny\",\n\"b\": 1 2\n}",
            b"{\"a\": \"x\\\ny\"}",
            b"[-\n\"a\tb\"]",
            // Not UTF-8: inside a string, and after a raw control character.
            b"[\"caf\xe9\"]",
            b"{\"a\": \"x\ny\", \"b\": \"\xff\"}",
            deep.as_bytes(),
        ] {
            let tree = parse_tree(text).map(|tree| tree.to_value());
            assert_eq!(tree, parse(text), "{}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn byte_order_mark_is_ignored() {
        assert!(parse(b"\xEF\xBB\xBF{}").is_ok());
    }

    #[test]
    fn deep_nesting_is_refused_clearly() {
        let text = "[".repeat(200) + &"]".repeat(200);
        let err = parse(text.as_bytes()).expect_err("too deep");
        assert!(err.message.contains("nesting is too deep"), "{err}");
        assert_eq!(err.line, 1);
    }

    #[test]
    fn control_characters_outside_strings_are_whitespace_or_errors_as_in_json() {
        assert!(parse(b"{\n\t\"a\": 1\r\n}").is_ok());
        assert!(parse(b"{\x01}").is_err());
    }
}
