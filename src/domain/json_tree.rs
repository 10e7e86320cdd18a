//! An upload body as a JSON tree that borrows its strings from the request: what the package
//! reader walks, and the two texts made from a credential (as stored, and canonical for its
//! fingerprint). It must mean exactly what `serde_json::Value` would: the stored documents
//! and fingerprints are the ones `Value` gave before.
//!
//! Why not `serde_json::Value`: building one for an upload (a hashed, order-keeping map per
//! object, an allocation per string) was the largest part of an upload's work, and the
//! reader only looks a few keys up in small objects. Why not a borrowed-DOM crate: those
//! keep every duplicate key and find the first, where serde_json keeps one entry per key,
//! in the place of its first occurrence, with the value of its last.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};
use std::borrow::Cow;
use std::fmt::{self, Write as _};

/// A JSON value whose strings are borrowed from the text it was read from where they had no
/// escapes.
#[derive(Debug, Clone, PartialEq)]
pub enum Node<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Node<'a>>),
    Object(Object<'a>),
}

/// An object's members in the order they were sent, one per key (see `Object::from_members`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Object<'a> {
    members: Vec<(Cow<'a, str>, Node<'a>)>,
}

impl<'a> Object<'a> {
    /// Objects are small (a credential's have a dozen keys): a scan beats hashing each key.
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        self.members
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, value)| value)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Node<'a>)> {
        self.members.iter().map(|(k, v)| (k.as_ref(), v))
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Members as read, a key possibly repeated, made into what serde_json's map makes of
    /// them: one member per key, where the key first appeared, with its last value.
    fn from_members(members: Vec<(Cow<'a, str>, Node<'a>)>) -> Object<'a> {
        if !has_duplicate_keys(&members) {
            return Object { members };
        }
        // Group the positions by key (sorted, so a hostile object costs n log n): each
        // group's first position keeps its place and takes the value of the group's last.
        let mut order: Vec<usize> = (0..members.len()).collect();
        order.sort_unstable_by(|&a, &b| members[a].0.cmp(&members[b].0).then(a.cmp(&b)));
        let mut last_of: Vec<Option<usize>> = vec![None; members.len()];
        for group in order.chunk_by(|&a, &b| members[a].0 == members[b].0) {
            if let (Some(&first), Some(&last)) = (group.first(), group.last()) {
                last_of[first] = Some(last);
            }
        }
        let mut slots: Vec<Option<(Cow<'a, str>, Node<'a>)>> =
            members.into_iter().map(Some).collect();
        let mut kept = Vec::with_capacity(slots.len());
        for (first, last) in last_of.into_iter().enumerate() {
            let Some(last) = last else { continue };
            let Some((key, mut value)) = slots[first].take() else {
                continue;
            };
            if let Some((_, later)) = slots[last].take() {
                value = later;
            }
            kept.push((key, value));
        }
        Object { members: kept }
    }
}

/// Whether any key appears twice. Small objects compare every pair; larger ones sort their
/// keys first, so a hostile object with 100,000 keys costs n log n, not n².
fn has_duplicate_keys(members: &[(Cow<'_, str>, Node<'_>)]) -> bool {
    if members.len() <= 16 {
        return members
            .iter()
            .enumerate()
            .any(|(i, (key, _))| members[..i].iter().any(|(k, _)| k == key));
    }
    let mut keys: Vec<&str> = members.iter().map(|(k, _)| k.as_ref()).collect();
    keys.sort_unstable();
    keys.windows(2).any(|pair| pair[0] == pair[1])
}

impl<'a> Node<'a> {
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        match self {
            Node::Object(object) => object.get(key),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::String(text) => Some(text),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Object<'a>> {
        match self {
            Node::Object(object) => Some(object),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Node::Null)
    }

    /// The value at an RFC 6901 JSON pointer ("" is this value).
    pub fn pointer(&self, pointer: &str) -> Option<&Node<'a>> {
        if pointer.is_empty() {
            return Some(self);
        }
        pointer
            .strip_prefix('/')?
            .split('/')
            .try_fold(self, |target, token| {
                let token: Cow<'_, str> = if token.contains('~') {
                    Cow::Owned(token.replace("~1", "/").replace("~0", "~"))
                } else {
                    Cow::Borrowed(token)
                };
                match target {
                    Node::Object(object) => object.get(&token),
                    // As serde_json reads an array index: digits, no leading zero.
                    Node::Array(list) if !token.starts_with(['+', '0']) || token == "0" => {
                        token.parse::<usize>().ok().and_then(|i| list.get(i))
                    }
                    _ => None,
                }
            })
    }

    /// What kind of value this is, for messages ("got a number").
    pub fn kind(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Bool(_) => "a boolean",
            Node::Number(_) => "a number",
            Node::String(_) => "a string",
            Node::Array(_) => "an array",
            Node::Object(_) => "an object",
        }
    }

    /// The same tree, borrowing nothing.
    pub fn into_owned(self) -> Node<'static> {
        match self {
            Node::Null => Node::Null,
            Node::Bool(b) => Node::Bool(b),
            Node::Number(n) => Node::Number(n),
            Node::String(text) => Node::String(Cow::Owned(text.into_owned())),
            Node::Array(list) => Node::Array(list.into_iter().map(Node::into_owned).collect()),
            Node::Object(object) => Node::Object(Object {
                members: object
                    .members
                    .into_iter()
                    .map(|(k, v)| (Cow::Owned(k.into_owned()), v.into_owned()))
                    .collect(),
            }),
        }
    }

    /// The same value as a `serde_json::Value`.
    pub fn to_value(&self) -> Value {
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Number(n) => Value::Number(n.clone()),
            Node::String(text) => Value::String(text.to_string()),
            Node::Array(list) => Value::Array(list.iter().map(Node::to_value).collect()),
            Node::Object(object) => Value::Object(
                object
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_value()))
                    .collect(),
            ),
        }
    }

    /// The JSON text `serde_json::Value::to_string` gives for the same value: no whitespace,
    /// keys in their order.
    pub fn write_compact(&self, out: &mut String) {
        self.write(out, false);
    }

    /// The JSON text of `write_compact` with every object's keys sorted (by their UTF-8
    /// bytes): equal for equal values whatever the key order.
    pub fn write_canonical(&self, out: &mut String) {
        self.write(out, true);
    }

    fn write(&self, out: &mut String, sorted: bool) {
        match self {
            Node::Object(object) => {
                out.push('{');
                if sorted && object.len() > 1 {
                    // Keys are unique, so the order of the members is that of their keys.
                    let mut members: Vec<&(Cow<'a, str>, Node<'a>)> =
                        object.members.iter().collect();
                    members.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                    write_members(members.into_iter(), out, sorted);
                } else {
                    write_members(object.members.iter(), out, sorted);
                }
                out.push('}');
            }
            Node::Array(list) => {
                out.push('[');
                for (i, item) in list.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out, sorted);
                }
                out.push(']');
            }
            Node::String(text) => write_string(out, text),
            Node::Null => out.push_str("null"),
            Node::Bool(true) => out.push_str("true"),
            Node::Bool(false) => out.push_str("false"),
            // `Number`'s Display is the text serde_json writes for it.
            Node::Number(n) => {
                let _ = write!(out, "{n}");
            }
        }
    }
}

fn write_members<'m, 'a: 'm>(
    members: impl Iterator<Item = &'m (Cow<'a, str>, Node<'a>)>,
    out: &mut String,
    sorted: bool,
) {
    for (i, (key, value)) in members.enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(out, key);
        out.push(':');
        value.write(out, sorted);
    }
}

self_cell::self_cell!(
    /// An upload body and the tree read from it, kept together so that a record's stored
    /// text can be written from the tree when the record is stored, and only then: most
    /// re-sent credentials are unchanged and never stored again.
    pub struct Body {
        owner: Vec<u8>,
        #[covariant]
        dependent: Node,
    }

    impl {Debug, PartialEq}
);

/// A borrowed view of a `serde_json::Value` (a credential decoded from a JWS, a test's body).
impl<'a> From<&'a Value> for Node<'a> {
    fn from(value: &'a Value) -> Node<'a> {
        match value {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(*b),
            Value::Number(n) => Node::Number(n.clone()),
            Value::String(text) => Node::String(Cow::Borrowed(text)),
            Value::Array(list) => Node::Array(list.iter().map(Node::from).collect()),
            // A `Map` has one entry per key already.
            Value::Object(map) => Node::Object(Object {
                members: map
                    .iter()
                    .map(|(k, v)| (Cow::Borrowed(k.as_str()), Node::from(v)))
                    .collect(),
            }),
        }
    }
}

/// A JSON string, escaped exactly as serde_json escapes it. Nearly every string needs no
/// escape at all, and is copied as it is.
pub fn write_string(out: &mut String, text: &str) {
    if needs_escape(text.as_bytes()) {
        write_scalar(out, text);
    } else {
        out.push('"');
        out.push_str(text);
        out.push('"');
    }
}

/// Whether any byte is one JSON escapes: a control character, `"` or `\`. Tested eight
/// bytes at a time (the classic "has a byte less than n / equal to b" word tricks, whose
/// yes-or-no answer is exact): both texts pass over every string of every upload.
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero_byte = |word: u64| word.wrapping_sub(ONES) & !word & HIGH != 0;
    let mut words = bytes.chunks_exact(8);
    for chunk in &mut words {
        let word = u64::from_le_bytes(<[u8; 8]>::try_from(chunk).unwrap_or_default());
        let control = word.wrapping_sub(ONES * 0x20) & !word & HIGH != 0;
        if control
            || has_zero_byte(word ^ (ONES * u64::from(b'"')))
            || has_zero_byte(word ^ (ONES * u64::from(b'\\')))
        {
            return true;
        }
    }
    words
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

fn write_scalar(out: &mut String, value: &(impl Serialize + ?Sized)) {
    // A string or a number always serialises.
    if let Ok(text) = serde_json::to_string(value) {
        out.push_str(&text);
    }
}

// ---------------------------------------------------------------------------------------
// Reading, through serde_json's own parser (so errors, their positions, the nesting limit
// and number parsing are serde_json's), with the choices its `Value` makes.

impl<'de> Deserialize<'de> for Node<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node<'de>, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

/// The key serde_json's `raw_value` feature (which axum turns on) gives a meaning: an object
/// whose first key it is stands for the JSON in its string value. `Value` honours it, so
/// this does too.
const RAW_VALUE_KEY: &str = "$serde_json::private::RawValue";

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Node<'de>, E> {
        Ok(Node::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Node<'de>, E> {
        Ok(Node::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Node<'de>, E> {
        Ok(Node::Number(n.into()))
    }

    fn visit_f64<E>(self, f: f64) -> Result<Node<'de>, E> {
        Ok(Number::from_f64(f).map_or(Node::Null, Node::Number))
    }

    fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Node<'de>, E> {
        Ok(Node::String(Cow::Borrowed(text)))
    }

    fn visit_str<E>(self, text: &str) -> Result<Node<'de>, E> {
        Ok(Node::String(Cow::Owned(text.to_string())))
    }

    fn visit_string<E>(self, text: String) -> Result<Node<'de>, E> {
        Ok(Node::String(Cow::Owned(text)))
    }

    fn visit_none<E>(self) -> Result<Node<'de>, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node<'de>, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_unit<E>(self) -> Result<Node<'de>, E> {
        Ok(Node::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node<'de>, A::Error> {
        let mut list = Vec::new();
        while let Some(item) = seq.next_element()? {
            list.push(item);
        }
        Ok(Node::Array(list))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node<'de>, A::Error> {
        let Some(first) = map.next_key_seed(KeySeed)? else {
            return Ok(Node::Object(Object::default()));
        };
        if first == RAW_VALUE_KEY {
            let raw = map.next_value_seed(RawValueSeed)?;
            let value: Value = serde_json::from_str(&raw).map_err(de::Error::custom)?;
            return Ok(Node::from(&value).into_owned());
        }
        let mut members = vec![(first, map.next_value()?)];
        while let Some(key) = map.next_key_seed(KeySeed)? {
            members.push((key, map.next_value()?));
        }
        Ok(Node::Object(Object::from_members(members)))
    }
}

/// An object key, borrowed when it has no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(text))
    }

    fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(text.to_string()))
    }

    fn visit_string<E>(self, text: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(text))
    }
}

/// The string after the raw-value key, refused as serde_json refuses anything else there.
struct RawValueSeed;

impl<'de> DeserializeSeed<'de> for RawValueSeed {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for RawValueSeed {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("raw value")
    }

    fn visit_str<E>(self, text: &str) -> Result<String, E> {
        Ok(text.to_string())
    }

    fn visit_string<E>(self, text: String) -> Result<String, E> {
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(text: &str) -> (Result<Node<'_>, String>, Result<Value, String>) {
        (
            serde_json::from_str::<Node>(text).map_err(|e| e.to_string()),
            serde_json::from_str::<Value>(text).map_err(|e| e.to_string()),
        )
    }

    /// The tree means what `Value` means, and writes what `Value` writes.
    fn assert_same_as_value(text: &str) {
        let (node, value) = both(text);
        match (node, value) {
            (Ok(node), Ok(value)) => {
                assert_eq!(node.to_value(), value, "{text}");
                let mut compact = String::new();
                node.write_compact(&mut compact);
                assert_eq!(compact, value.to_string());
                assert_eq!(Node::from(&value), node, "{text}");
            }
            (node, value) => assert_eq!(node.err(), value.err(), "{text}"),
        }
    }

    #[test]
    fn a_repeated_key_keeps_its_first_place_and_its_last_value_as_serde_json_does() {
        for text in [
            r#"{"a":1,"b":2,"a":3}"#,
            r#"{"a":1,"a":{"x":1},"b":[1],"a":"last"}"#,
            r#"{"k":1,"k":2}"#,
        ] {
            assert_same_as_value(text);
        }
        let many: Vec<String> = (0..40).map(|i| format!("\"k{}\":{i}", i % 25)).collect();
        assert_same_as_value(&format!("{{{}}}", many.join(",")));
        let distinct: Vec<String> = (0..40).map(|i| format!("\"k{i}\":{i}")).collect();
        assert_same_as_value(&format!("{{{}}}", distinct.join(",")));
    }

    #[test]
    fn strings_numbers_and_escapes_read_and_write_as_serde_json_does() {
        for text in [
            r#"["plain","caf\u00e9","\ud83d\ude00","a\/b","tab\tquote\"","\u0001"]"#,
            r#"[0,-0,1.0,1.50,1e2,-1E-2,12345678901234567890,123456789012345678901234,3.141592653589793238]"#,
            r#"{"esc\u0061ped key":true,"":null,"x":false}"#,
            "[]",
            "{}",
            "  \"top\" ",
        ] {
            assert_same_as_value(text);
        }
    }

    #[test]
    fn strings_without_escapes_are_borrowed() {
        let text = r#"{"name":"Intro","esc\u0061ped":"caf\u00e9"}"#;
        let node: Node = serde_json::from_str(text).expect("JSON");
        let object = node.as_object().expect("object");
        let (key, value) = &object.members[0];
        assert!(matches!(key, Cow::Borrowed(_)) && matches!(value, Node::String(Cow::Borrowed(_))));
        let (key, value) = &object.members[1];
        assert!(matches!(key, Cow::Owned(_)) && matches!(value, Node::String(Cow::Owned(_))));
    }

    #[test]
    fn errors_are_serde_json_errors_at_the_same_place() {
        for text in [
            "{\"a\":1,}",
            "[1 2]",
            "{\"a\" 1}",
            "\"unterminated",
            "[\"\\x\"]",
            "1e400",
            "[1] x",
            "",
            &("[".repeat(200) + &"]".repeat(200)),
        ] {
            let (node, value) = both(text);
            assert_eq!(node.err(), value.err(), "{text}");
        }
    }

    #[test]
    fn the_raw_value_key_means_what_it_means_to_serde_json() {
        for text in [
            r#"{"$serde_json::private::RawValue":"[1,{\"a\":2}]"}"#,
            r#"{"$serde_json::private::RawValue":5}"#,
            r#"{"$serde_json::private::RawValue":"[1"}"#,
            r#"{"$serde_json::private::RawValue":"1","b":2}"#,
            r#"{"b":2,"$serde_json::private::RawValue":"1"}"#,
        ] {
            assert_same_as_value(text);
        }
    }

    #[test]
    fn pointers_find_what_serde_json_pointers_find() {
        let text = r#"{"a":[{"b~/c":1},[2,3]],"":{"x":null},"0":"zero"}"#;
        let node: Node = serde_json::from_str(text).expect("JSON");
        let value: Value = serde_json::from_str(text).expect("JSON");
        for pointer in [
            "",
            "/a",
            "/a/0",
            "/a/0/b~0~1c",
            "/a/1/1",
            "/a/01",
            "/a/+1",
            "/a/2",
            "/",
            "//x",
            "/0",
            "a",
            "/a/0/b~/c",
            "/a/-",
        ] {
            assert_eq!(
                node.pointer(pointer).map(Node::to_value),
                value.pointer(pointer).cloned(),
                "{pointer}"
            );
        }
    }

    #[test]
    fn canonical_text_sorts_keys_at_every_depth() {
        let node: Node =
            serde_json::from_str(r#"{"b":1,"a":{"d":[{"z":1,"y":2}],"c":null},"é":0,"B":2}"#)
                .expect("JSON");
        let mut out = String::new();
        node.write_canonical(&mut out);
        assert_eq!(
            out,
            r#"{"B":2,"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1,"é":0}"#
        );
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        for text in [
            "",
            "plain",
            "caf\u{e9} \u{1f600}",
            "quote \" and backslash \\",
            "line\nbreak\ttab\u{1}\u{1f}\u{7f}",
            "sixteen bytes ok\"",
            "0123456789abcdef\\",
        ] {
            let mut out = String::new();
            write_string(&mut out, text);
            assert_eq!(out, serde_json::to_string(text).expect("json"), "{text:?}");
        }
        // Every byte value at every position of a word and of the tail, at every length.
        for length in 1..=19 {
            for position in 0..length {
                for byte in 0u8..=0x7f {
                    let mut text = vec![b'a'; length];
                    text[position] = byte;
                    let escaped = byte < 0x20 || byte == b'"' || byte == b'\\';
                    let at = format!("byte {byte:#x} at {position} of {length}");
                    assert_eq!(needs_escape(&text), escaped, "{at}");
                }
            }
        }
        assert!(!needs_escape(b""));
        for byte in [0x80u8, 0xa0, 0xdc, 0xff] {
            assert!(!needs_escape(&[byte; 16]), "byte {byte:#x}");
        }
    }
}
