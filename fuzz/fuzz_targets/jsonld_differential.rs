//! Differential: our JSON-LD processor (src/verify/jsonld/) against jsonld.js, the processor
//! of the JavaScript verifier, on generated credential-shaped documents: the VCDM 2.0
//! context or none, then an embedded context with keyword aliases, `@list`/`@set`/`@graph`/
//! `@language` containers, property- and type-scoped contexts, `@json` and typed terms,
//! default and per-term languages (some malformed), `@vocab` and prefixes; and nested
//! subjects with value, list and set objects, language maps and numbers of every kind.
//!
//! Invariant: whenever both processors turn a document into quads (ours in safe mode,
//! jsonld.js with `safe: true`), the canonical N-Quads are the same, byte for byte. Where
//! only one refuses, nothing is asserted: ours refuses more on purpose (colliding aliases,
//! features credentials do not use). Nothing panics.
//!
//! jsonld.js runs as one long-lived child process
//! (scripts/bench/js-verifier/nquads-stdio.mjs; `npm ci` in that folder first).
#![no_main]

use credentialconnect::verify::Verifier;
use credentialconnect::verify::canonical::canonical_nquads;
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{LazyLock, Mutex};

static VERIFIER: LazyLock<Verifier> = LazyLock::new(Verifier::offline);

struct Reference {
    _child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

static REFERENCE: LazyLock<Mutex<Reference>> = LazyLock::new(|| {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scripts/bench/js-verifier/nquads-stdio.mjs"
    );
    let mut child = Command::new("node")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node runs the jsonld.js reference");
    let input = child.stdin.take().expect("stdin");
    let output = BufReader::new(child.stdout.take().expect("stdout"));
    Mutex::new(Reference {
        _child: child,
        input,
        output,
    })
});

/// jsonld.js's canonical N-Quads, or its error.
fn reference(document: &Value) -> std::result::Result<String, String> {
    let mut reference = REFERENCE.lock().unwrap_or_else(|p| p.into_inner());
    let line = serde_json::to_string(document).expect("serializes");
    writeln!(reference.input, "{line}").expect("write to node");
    reference.input.flush().expect("flush");
    let mut answer = String::new();
    reference.output.read_line(&mut answer).expect("read from node");
    let answer: Value = serde_json::from_str(&answer).expect("node answers JSON");
    match answer.get("nquads").and_then(Value::as_str) {
        Some(nquads) => Ok(nquads.to_string()),
        None => Err(answer["error"].as_str().unwrap_or("?").to_string()),
    }
}

const TERMS: [&str; 8] = ["p0", "p1", "p2", "p3", "p4", "p5", "T0", "T1"];
const ALIASES: [(&str, &str); 7] = [
    ("a_id", "@id"),
    ("a_type", "@type"),
    ("a_value", "@value"),
    ("a_lang", "@language"),
    ("a_list", "@list"),
    ("a_set", "@set"),
    ("a_graph", "@graph"),
];
const LANGUAGES: [&str; 7] = ["en", "en-GB", "DE-at", "zh-Hant-TW", "x-private", "a b", "en\n."];
const KEYS: [&str; 20] = [
    "p0", "p1", "p2", "p3", "p4", "p5", "a_id", "a_type", "@id", "@type", "a_value", "@value",
    "a_lang", "@language", "a_list", "@list", "a_set", "@set", "name", "description",
];

fn pick<'a, T>(u: &mut Unstructured<'_>, items: &'a [T]) -> Result<&'a T> {
    u.choose(items)
}

fn iri(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(Value::String(
        pick(
            u,
            &[
                "https://ex.example/a",
                "https://ex.example/b",
                "did:example:alice",
                "urn:uuid:1",
                "_:b1",
                "ex:c",
                "relative",
                "T0",
            ],
        )?
        .to_string(),
    ))
}

fn term_definition(u: &mut Unstructured<'_>, term: &str, depth: usize) -> Result<Value> {
    let id = match u.int_in_range(0..=3)? {
        0 => format!("https://ex.example/{term}"),
        1 => format!("ex:{term}"),
        2 => "https://ex.example/shared".to_string(),
        _ => "https://schema.org/name".to_string(),
    };
    if u.ratio(1, 3)? {
        return Ok(Value::String(id));
    }
    let mut definition = Map::new();
    definition.insert("@id".into(), Value::String(id));
    if u.ratio(1, 2)? {
        let t = pick(
            u,
            &[
                "@id",
                "@vocab",
                "@json",
                "http://www.w3.org/2001/XMLSchema#integer",
                "http://www.w3.org/2001/XMLSchema#string",
                "http://www.w3.org/2001/XMLSchema#double",
                "xsd:dateTime",
            ],
        )?;
        definition.insert("@type".into(), json!(t));
    }
    if u.ratio(1, 2)? {
        let c = pick(
            u,
            &["@list", "@set", "@graph", "@language", "@index"][..],
        )?;
        definition.insert("@container".into(), json!(c));
    }
    if u.ratio(1, 4)? {
        let language = if u.ratio(1, 4)? {
            Value::Null
        } else {
            json!(pick(u, &LANGUAGES)?)
        };
        definition.insert("@language".into(), language);
    }
    if depth < 2 && u.ratio(1, 3)? {
        definition.insert("@context".into(), context(u, depth + 1)?);
    }
    if u.ratio(1, 6)? {
        definition.insert("@protected".into(), json!(true));
    }
    Ok(Value::Object(definition))
}

fn context(u: &mut Unstructured<'_>, depth: usize) -> Result<Value> {
    let mut context = Map::new();
    if depth == 0 {
        context.insert("ex".into(), json!("https://ex.example/"));
        context.insert(
            "xsd".into(),
            json!("http://www.w3.org/2001/XMLSchema#"),
        );
    }
    if u.ratio(1, 4)? {
        context.insert("@vocab".into(), json!("https://vocab.example/"));
    }
    if u.ratio(1, 4)? {
        context.insert("@language".into(), json!(pick(u, &LANGUAGES)?));
    }
    for (alias, keyword) in ALIASES {
        if u.ratio(1, 3)? {
            context.insert(alias.into(), json!(keyword));
        }
    }
    for term in TERMS {
        if u.ratio(1, 2)? {
            context.insert(term.into(), term_definition(u, term, depth)?);
        }
    }
    Ok(Value::Object(context))
}

fn scalar(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(match u.int_in_range(0..=9)? {
        0 => json!("text"),
        1 => json!("é ✓ \u{1F600}"),
        2 => json!(u.int_in_range(-1000..=1000i64)?),
        3 => json!(pick(u, &[1.5f64, 0.1, -0.0, 42.0, 1e21, 1e-7, 333333333.3333333])?),
        4 => json!(9007199254740993u64),
        5 => json!(u.arbitrary::<bool>()?),
        6 => Value::Null,
        7 => json!("2024-01-01T00:00:00Z"),
        8 => iri(u)?,
        _ => json!(pick(u, &LANGUAGES)?),
    })
}

fn value(u: &mut Unstructured<'_>, depth: usize) -> Result<Value> {
    if depth > 3 {
        return scalar(u);
    }
    Ok(match u.int_in_range(0..=7)? {
        0 | 1 => scalar(u)?,
        2 => node(u, depth + 1)?,
        3 => {
            let n = u.int_in_range(0..=3)?;
            Value::Array((0..n).map(|_| value(u, depth + 1)).collect::<Result<_>>()?)
        }
        4 => {
            // A value object, perhaps with an alias or an extra member.
            let mut object = Map::new();
            let key = if u.ratio(1, 2)? { "@value" } else { "a_value" };
            object.insert(key.into(), scalar(u)?);
            if u.ratio(1, 2)? {
                let key = if u.ratio(1, 2)? { "@language" } else { "a_lang" };
                object.insert(key.into(), json!(pick(u, &LANGUAGES)?));
            }
            if u.ratio(1, 3)? {
                let t = pick(u, &["@json", "xsd:integer", "https://ex.example/dt", "T0"])?;
                object.insert("@type".into(), json!(t));
            }
            if u.ratio(1, 6)? {
                object.insert(pick(u, &KEYS)?.to_string(), scalar(u)?);
            }
            Value::Object(object)
        }
        5 => {
            let key = pick(u, &["@list", "a_list", "@set", "a_set"])?;
            let n = u.int_in_range(0..=3)?;
            let items: Vec<Value> = (0..n).map(|_| value(u, depth + 1)).collect::<Result<_>>()?;
            let mut object = Map::from_iter([(key.to_string(), Value::Array(items))]);
            if u.ratio(1, 5)? {
                object.insert(pick(u, &KEYS)?.to_string(), scalar(u)?);
            }
            Value::Object(object)
        }
        6 => {
            // A language map (for a term with "@container": "@language").
            let mut object = Map::new();
            for _ in 0..u.int_in_range(1..=3)? {
                object.insert(pick(u, &LANGUAGES)?.to_string(), scalar(u)?);
            }
            Value::Object(object)
        }
        _ => json!({"@graph": [node(u, depth + 1)?]}),
    })
}

fn node(u: &mut Unstructured<'_>, depth: usize) -> Result<Value> {
    let mut object = Map::new();
    if depth > 0 && u.ratio(1, 5)? {
        object.insert("@context".into(), context(u, 1)?);
    }
    for _ in 0..u.int_in_range(0..=5)? {
        let key = pick(u, &KEYS)?.to_string();
        let item = match key.as_str() {
            "@id" | "a_id" => iri(u)?,
            "@type" | "a_type" => {
                if u.ratio(1, 2)? {
                    json!(pick(u, &["T0", "T1", "ex:T2", "https://ex.example/T3"])?)
                } else {
                    json!(["T0", "T1"])
                }
            }
            _ => value(u, depth)?,
        };
        object.insert(key, item);
    }
    Ok(Value::Object(object))
}

fn document(u: &mut Unstructured<'_>) -> Result<Value> {
    let local = context(u, 0)?;
    let context = if u.ratio(2, 3)? {
        json!(["https://www.w3.org/ns/credentials/v2", local])
    } else {
        local
    };
    let mut document = Map::new();
    document.insert("@context".into(), context);
    document.insert("id".into(), json!("urn:uuid:2d7e5c3a-0b1f-4a57-9d1e-3b3c1f2a4d5e"));
    document.insert("type".into(), json!(["VerifiableCredential"]));
    document.insert("issuer".into(), json!("did:example:issuer"));
    document.insert("credentialSubject".into(), node(u, 1)?);
    if let Value::Object(extra) = node(u, 1)? {
        for (key, item) in extra {
            document.entry(key).or_insert(item);
        }
    }
    Ok(Value::Object(document))
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(document) = document(&mut u) else {
        return;
    };
    let ours = canonical_nquads(VERIFIER.processor(), &document);
    let Ok(ours) = ours else {
        return;
    };
    if let Ok(theirs) = reference(&document) {
        assert_eq!(
            ours,
            theirs,
            "our canonical N-Quads differ from jsonld.js's for\n{}",
            serde_json::to_string_pretty(&document).unwrap_or_default()
        );
    }
});
